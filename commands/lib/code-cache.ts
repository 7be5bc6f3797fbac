import {randomBytes} from 'node:crypto'
import {closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'

/**
 * V8's compiled code for the CLI bundle, kept between runs so that a start deserializes code
 * instead of parsing and compiling ~2 MB of JavaScript (Node 20 has no compile cache of its
 * own; 22 has one, for its own loaders only).
 *
 * The cache is code the CLI runs, so only a file the user alone could have written is used: it
 * lives in the user's cache directory (`$XDG_CACHE_HOME/saas-ctl`, else `~/.cache/saas-ctl`), made
 * 0700; a directory or file owned by someone else, writable by group or others, or a symbolic link,
 * is ignored. V8 itself refuses data made by another V8 version or with other V8 flags; the file
 * name holds the bundle's content hash, Node's version and the architecture. Any failure to read or
 * write only means a slower start: the CLI never fails for its cache.
 *
 * A file holds the V8 data and the runs it covers (`org:list`, `--version` as ``), so that a run of a
 * command it does not cover yet writes it again with that command's functions compiled too.
 */
export interface CodeCache {
  /** V8's data (vm.Script `cachedData`). */
  data: Buffer
  /** The runs (see runKey) whose compiled functions the data holds. */
  covers: string[]
}

/** At most this many runs are recorded: past them the file is no longer rewritten for new ones. */
export const MAX_COVERED_RUNS = 32

/** Another build's cache file is deleted by a write once it is this old (a build replaces the bundle; a second install may still use its own). */
export const STALE_CACHE_AGE_MS = 24 * 60 * 60 * 1000

const CACHE_FILE_PATTERN = /^cli-[0-9a-f]+-.+\.v8cache$/

/**
 * The directory, or undefined where there is no user to own it (no getuid: not a POSIX system) or
 * no home directory to put it in (HOME unset and no passwd entry, as in some containers).
 */
export function codeCacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (typeof process.getuid !== 'function') return undefined
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

/** The cache file of one build of the bundle (its content hash) for this Node and architecture. */
export function codeCacheFile(directory: string, bundleId: string): string {
  return path.join(directory, `cli-${bundleId}-${process.version}-${process.arch}.v8cache`)
}

/**
 * A run as the cache records it: the leading words of the arguments that can be a command id
 * (`org list acme --json` → `org:list`), at most two, so a command's arguments do not make new keys.
 */
export function runKey(argv: readonly string[]): string {
  const words: string[] = []
  for (const argument of argv) {
    if (words.length === 2 || !/^[a-z0-9][a-z0-9-]*$/.test(argument)) break
    words.push(argument)
  }
  return words.join(':')
}

/** The cache in this file, or undefined when there is none or it is not the user's alone. */
export function readCodeCache(file: string): CodeCache | undefined {
  let descriptor: number | undefined
  try {
    if (!ownedByUserAlone(lstatSync(path.dirname(file)), 'directory')) return undefined
    descriptor = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW)
    if (!ownedByUserAlone(fstatSync(descriptor), 'file')) return undefined
    return decode(readFileSync(descriptor))
  } catch {
    return undefined
  } finally {
    if (descriptor !== undefined) closeSync(descriptor)
  }
}

/**
 * Writes the cache: a new 0600 file beside the old, renamed over it, so a reader sees the old file or
 * the new one whole and two writers each leave a whole file.
 */
export function writeCodeCache(file: string, cache: CodeCache): void {
  const directory = path.dirname(file)
  const temporary = path.join(directory, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}`)
  let descriptor: number | undefined
  try {
    mkdirSync(directory, {recursive: true, mode: 0o700})
    if (!ownedByUserAlone(lstatSync(directory), 'directory')) return
    descriptor = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    const encoded = encode(cache)
    for (let written = 0; written < encoded.length; ) written += writeSync(descriptor, encoded, written)
    closeSync(descriptor)
    descriptor = undefined
    renameSync(temporary, file)
    deleteStaleCaches(directory, path.basename(file))
  } catch {
    if (descriptor !== undefined) closeSync(descriptor)
    rmSync(temporary, {force: true})
  }
}

/** Other builds' cache files not written for STALE_CACHE_AGE_MS: each build of the bundle leaves one. */
function deleteStaleCaches(directory: string, current: string): void {
  const staleBefore = Date.now() - STALE_CACHE_AGE_MS
  for (const name of readdirSync(directory)) {
    if (name === current || !CACHE_FILE_PATTERN.test(name)) continue
    const file = path.join(directory, name)
    if (lstatSync(file).mtimeMs < staleBefore) rmSync(file, {force: true})
  }
}

function ownedByUserAlone(stats: {uid: number; mode: number; isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean}, kind: 'directory' | 'file'): boolean {
  const rightKind = kind === 'directory' ? stats.isDirectory() && !stats.isSymbolicLink() : stats.isFile()
  return rightKind && stats.uid === process.getuid?.() && (stats.mode & 0o022) === 0
}

/** The file: the length of a JSON header (4 bytes, little-endian), the header ({covers}), V8's data. */
function encode(cache: CodeCache): Buffer {
  const header = Buffer.from(JSON.stringify({covers: cache.covers}))
  const length = Buffer.alloc(4)
  length.writeUInt32LE(header.length)
  return Buffer.concat([length, header, cache.data])
}

function decode(bytes: Buffer): CodeCache | undefined {
  if (bytes.length < 4) return undefined
  const headerEnd = 4 + bytes.readUInt32LE(0)
  if (headerEnd > bytes.length) return undefined
  const header: unknown = JSON.parse(bytes.subarray(4, headerEnd).toString('utf8'))
  const covers = (header as {covers?: unknown}).covers
  if (!Array.isArray(covers) || !covers.every((run) => typeof run === 'string')) return undefined
  return {covers, data: bytes.subarray(headerEnd)}
}
