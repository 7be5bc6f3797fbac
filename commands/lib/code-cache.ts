import {randomBytes} from 'node:crypto'
import {closeSync, constants, existsSync, fstatSync, futimesSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync, type Stats} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'

/**
 * V8's compiled code for the CLI bundle, kept between runs so that a start deserializes code
 * instead of parsing and compiling ~2 MB of JavaScript (Node 20 has no compile cache of its
 * own; 22 has one, for its own loaders only).
 *
 * The cache is code the CLI runs (V8 trusts it as it trusts its own compiler's output), so:
 * - Only a file the user alone could have written is used. It lives in `$XDG_CACHE_HOME/saas-ctl`,
 *   else `~/.cache/saas-ctl`, made 0700. The cache base (`~/.cache`, `$XDG_CACHE_HOME`) must be the
 *   user's own and not writable by group or others; it is made only in a directory the user owns,
 *   so root running with someone else's HOME neither uses nor creates anything there. A `saas-ctl`
 *   directory or cache file owned by someone else, writable by group or others, or a symbolic
 *   link, is ignored. The directories above the base are not checked: they are the user's choice.
 * - A file whose data does not match its CRC-32 (a damaged file: V8 does not check) or that was
 *   made from another copy of the bundle (its size, mtime and inode) is ignored. V8 refuses data
 *   from another version or other flags. The file name holds the bundle's content hash, a hash of
 *   the copy, the Node binary and its flags (codeCacheFile), Node's version and the architecture.
 * - Any failure to read or write only means a slower start.
 *
 * A file holds the V8 data and the runs it covers (`org:list`, `--version` as ``), so that a run of a
 * command it does not cover yet writes it again with that command's functions compiled too.
 */
export interface CodeCache {
  /** V8's data (vm.Script `cachedData`). */
  data: Buffer
  /** The runs (see runKey) whose compiled functions the data holds. */
  covers: string[]
  /**
   * The bundle file the data was compiled from (sourceStamp). Also hashed into the file's name;
   * checked on reading as well because that hash is only 32 bits.
   */
  source: string
}

/** At most this many runs are recorded: past them the file is no longer rewritten for new ones. */
export const MAX_COVERED_RUNS = 32

/** Another cache file (another build, copy, Node or flags) is deleted by a write once not used for this long. */
export const STALE_CACHE_AGE_MS = 24 * 60 * 60 * 1000
/** A temporary file left by a process killed while writing is deleted once this old. */
export const STALE_TEMPORARY_AGE_MS = 60 * 60 * 1000

const CACHE_FILE_PATTERN = /^cli-[0-9a-f]+-.+\.v8cache$/
const TEMPORARY_FILE_PATTERN = /^\.cli-[0-9a-f]+-.+\.v8cache\.\d+\.[0-9a-f]+$/

/**
 * The directory, or undefined where there is no user to own it (no getuid: not a POSIX system), no
 * absolute home directory to put it in (HOME unset and no passwd entry, as in some containers), or
 * no zlib.crc32 to check its files with (Node 20 before 20.15).
 */
export function codeCacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (typeof process.getuid !== 'function' || typeof zlib.crc32 !== 'function') return undefined
  const xdg = env.XDG_CACHE_HOME
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'saas-ctl')
  const home = homeDirectory()
  return home && path.isAbsolute(home) ? path.join(home, '.cache', 'saas-ctl') : undefined
}

function homeDirectory(): string | undefined {
  try {
    return homedir()
  } catch {
    return undefined
  }
}

/**
 * Makes the directory if need be and tells whether this run may use it: the cache base is the
 * user's own (made 0700 only inside a directory the user owns) and the directory is the user's
 * alone. Nothing is created where the answer is no.
 */
export function prepareCodeCacheDirectory(directory: string): boolean {
  try {
    const base = path.dirname(directory)
    if (!existsSync(base)) {
      if (!ownedByUser(statSync(path.dirname(base)))) return false
      mkdirSync(base, {mode: 0o700})
    }
    const baseStats = statSync(base)
    if (!baseStats.isDirectory() || !ownedByUser(baseStats) || (baseStats.mode & 0o022) !== 0) return false
    if (!existsSync(directory)) mkdirSync(directory, {mode: 0o700})
    return ownedByUserAlone(lstatSync(directory), 'directory')
  } catch {
    return false
  }
}

/**
 * The cache file of one build of the bundle (its content hash) in one copy of it, for one Node
 * binary with its flags: the copy's path and stamp, the Node binary and its flags (command line
 * and NODE_OPTIONS) are hashed into the name. Two installs of one build, or runs with and without
 * a flag, each keep a file of their own instead of rewriting one in turn; and V8 names a script
 * compiled from cached data by the path it was cached under, which must be this copy's.
 */
export function codeCacheFile(directory: string, bundle: {id: string; file: string; stamp: string}): string {
  const variant = zlib.crc32(JSON.stringify([bundle.file, bundle.stamp, process.execPath, process.execArgv, process.env.NODE_OPTIONS ?? '']))
  return path.join(directory, `cli-${bundle.id}-${variant.toString(16).padStart(8, '0')}-${process.version}-${process.arch}.v8cache`)
}

/** A copy of the bundle file as the cache records it: data compiled from another copy is not used. */
export function sourceStamp(stats: Stats): string {
  return `${stats.size}:${stats.mtimeMs}:${stats.ino}`
}

/**
 * A run as the cache records it: the command it runs (`org list acme --json` and `org:list` →
 * `org:list`), or `` for a run with no command word (`--version`). A run that names no command (a
 * topic's help, a typo) or asks for help (`--help`) records nothing: it compiles none of a
 * command's code. So a command's arguments never make new keys.
 */
export function runKey(argv: readonly string[], commandIds: ReadonlySet<string>): string | undefined {
  if (argv.includes('--help')) return undefined
  const words: string[] = []
  let command: string | undefined
  for (const argument of argv) {
    if (argument.startsWith('-')) break
    words.push(...argument.split(':'))
    if (commandIds.has(words.join(':'))) command = words.join(':')
  }
  if (command !== undefined) return command
  return words.length === 0 ? '' : undefined
}

/** The cache in this file, or undefined when there is none, it is not the user's alone, or it is not whole or not of this bundle file. */
export function readCodeCache(file: string, source: string): CodeCache | undefined {
  let descriptor: number | undefined
  try {
    if (!ownedByUserAlone(lstatSync(path.dirname(file)), 'directory')) return undefined
    descriptor = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW)
    const stats = fstatSync(descriptor)
    if (!ownedByUserAlone(stats, 'file')) return undefined
    const cache = decode(readFileSync(descriptor))
    if (cache?.source !== source) return undefined
    // Marked as used, at most twice a day: a file that covers every run is read, never rewritten,
    // and must not look stale to another variant's write (STALE_CACHE_AGE_MS).
    if (Date.now() - stats.mtimeMs > STALE_CACHE_AGE_MS / 2) markUsed(descriptor)
    return cache
  } catch {
    return undefined
  } finally {
    if (descriptor !== undefined) closeSync(descriptor)
  }
}

/**
 * Writes the cache into a directory prepareCodeCacheDirectory accepted: a new 0600 file beside the
 * old, renamed over it, so a reader sees the old file or the new one whole and two writers each
 * leave a whole file. Never throws.
 */
export function writeCodeCache(file: string, cache: CodeCache): void {
  const directory = path.dirname(file)
  const temporary = path.join(directory, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}`)
  let descriptor: number | undefined
  let created = false
  try {
    if (!ownedByUserAlone(lstatSync(directory), 'directory')) return
    descriptor = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    created = true
    const encoded = encode(cache)
    for (let written = 0; written < encoded.length; ) written += writeSync(descriptor, encoded, written)
    closeSync(descriptor)
    descriptor = undefined
    renameSync(temporary, file)
    created = false
    deleteStaleFiles(directory, path.basename(file))
  } catch {
    try {
      if (descriptor !== undefined) closeSync(descriptor)
      if (created) rmSync(temporary, {force: true})
    } catch {
      // Left for a later write's clean-up (STALE_TEMPORARY_AGE_MS).
    }
  }
}

/** Other cache files not written for STALE_CACHE_AGE_MS (each build leaves one), and temporaries of killed writers. */
function deleteStaleFiles(directory: string, current: string): void {
  const now = Date.now()
  for (const name of readdirSync(directory)) {
    const maximumAge = name === current ? undefined : CACHE_FILE_PATTERN.test(name) ? STALE_CACHE_AGE_MS : TEMPORARY_FILE_PATTERN.test(name) ? STALE_TEMPORARY_AGE_MS : undefined
    if (maximumAge === undefined) continue
    const file = path.join(directory, name)
    if (lstatSync(file).mtimeMs < now - maximumAge) rmSync(file, {force: true})
  }
}

function markUsed(descriptor: number): void {
  try {
    futimesSync(descriptor, new Date(), new Date())
  } catch {
    // Then it may be deleted as stale a day after it was written, and written again when next used.
  }
}

function ownedByUser(stats: Stats): boolean {
  return stats.uid === process.getuid?.()
}

function ownedByUserAlone(stats: Stats, kind: 'directory' | 'file'): boolean {
  const rightKind = kind === 'directory' ? stats.isDirectory() && !stats.isSymbolicLink() : stats.isFile()
  return rightKind && ownedByUser(stats) && (stats.mode & 0o022) === 0
}

/** The file: the length of a JSON header (4 bytes, little-endian), the header ({covers, source, crc32} of the data), V8's data. */
function encode(cache: CodeCache): Buffer {
  const header = Buffer.from(JSON.stringify({covers: cache.covers, source: cache.source, crc32: zlib.crc32(cache.data)}))
  const length = Buffer.alloc(4)
  length.writeUInt32LE(header.length)
  return Buffer.concat([length, header, cache.data])
}

function decode(bytes: Buffer): CodeCache | undefined {
  if (bytes.length < 4) return undefined
  const headerEnd = 4 + bytes.readUInt32LE(0)
  if (headerEnd > bytes.length) return undefined
  const header = JSON.parse(bytes.subarray(4, headerEnd).toString('utf8')) as {covers?: unknown; source?: unknown; crc32?: unknown}
  const data = bytes.subarray(headerEnd)
  const {covers, source} = header
  if (!Array.isArray(covers) || !covers.every((run) => typeof run === 'string') || typeof source !== 'string') return undefined
  if (header.crc32 !== zlib.crc32(data)) return undefined
  return {covers, source, data}
}
