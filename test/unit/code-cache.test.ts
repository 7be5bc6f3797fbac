import {chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {
  codeCacheDirectory,
  codeCacheFile,
  prepareCodeCacheDirectory,
  readCodeCache,
  runKey,
  STALE_CACHE_AGE_MS,
  STALE_TEMPORARY_AGE_MS,
  writeCodeCache,
} from '../../commands/lib/code-cache.js'

// The CLI's V8 code cache (commands/lib/code-cache.ts) on real files: the cache is code the CLI runs,
// so only a file the user alone could have written may be used.
const isRoot = process.getuid?.() === 0
const NOBODY = 65534
const SOURCE = '1847418:1796000000000:42'
const cache = {data: Buffer.from('compiled code'), covers: ['org:list'], source: SOURCE}
const bundleNamed = (id: string) => ({id, file: '/opt/saas-ctl/dist/cli/saas-ctl.cjs', stamp: SOURCE})
const COMMAND_IDS = new Set(['org:list', 'org:show', 'user:2fa:enroll', 'backup'])

describe('CLI code cache files', () => {
  let home: string
  let directory: string
  let file: string

  beforeEach(() => {
    home = mkdtempSync(path.join(tmpdir(), 'saasctl-code-cache-'))
    directory = path.join(home, '.cache', 'saas-ctl')
    file = codeCacheFile(directory, bundleNamed('0123456789abcdef'))
  })
  afterEach(() => rmSync(home, {recursive: true, force: true}))

  it('makes the cache base and its directory 0700, writes a 0600 file, and reads back the data and the runs it covers', () => {
    expect(prepareCodeCacheDirectory(directory)).toBe(true)
    writeCodeCache(file, cache)
    expect(statSync(path.dirname(directory)).mode & 0o777).toBe(0o700)
    expect(statSync(directory).mode & 0o777).toBe(0o700)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(path.basename(file)).toMatch(new RegExp(`^cli-0123456789abcdef-[0-9a-f]{8}-${process.version}-${process.arch}\\.v8cache$`))
    const read = readCodeCache(file, SOURCE)
    expect(read?.covers).toEqual(['org:list'])
    expect(read?.data.toString()).toBe('compiled code')
    expect(readdirSync(directory)).toEqual([path.basename(file)])
  })

  it('names a file by the copy of the bundle and the Node flags too, so other copies and runs with other flags keep files of their own', () => {
    expect(codeCacheFile(directory, {...bundleNamed('0123456789abcdef'), file: '/usr/lib/node_modules/saas-ctl/dist/cli/saas-ctl.cjs'})).not.toBe(file)
    expect(codeCacheFile(directory, {...bundleNamed('0123456789abcdef'), stamp: '1847418:1796000000000:43'})).not.toBe(file)
    const options = process.env.NODE_OPTIONS
    try {
      process.env.NODE_OPTIONS = '--max-old-space-size=256'
      const withFlags = codeCacheFile(directory, bundleNamed('0123456789abcdef'))
      expect(withFlags).not.toBe(file)
      expect(path.basename(withFlags)).toMatch(/^cli-0123456789abcdef-[0-9a-f]{8}-/)
    } finally {
      if (options === undefined) delete process.env.NODE_OPTIONS
      else process.env.NODE_OPTIONS = options
    }
  })

  it('ignores a file that group or others could have written, or a directory they could write in', () => {
    prepareCodeCacheDirectory(directory)
    writeCodeCache(file, cache)
    chmodSync(file, 0o666)
    expect(readCodeCache(file, SOURCE)).toBeUndefined()
    chmodSync(file, 0o600)
    expect(readCodeCache(file, SOURCE)).toBeDefined()
    chmodSync(directory, 0o777)
    expect(readCodeCache(file, SOURCE)).toBeUndefined()
    expect(prepareCodeCacheDirectory(directory)).toBe(false)
  })

  it('refuses a cache base that group or others can write in, and makes nothing in it', () => {
    mkdirSync(path.dirname(directory), {mode: 0o700})
    chmodSync(path.dirname(directory), 0o777)
    expect(prepareCodeCacheDirectory(directory)).toBe(false)
    expect(existsSync(directory)).toBe(false)
  })

  it('ignores a symbolic link in place of the file, and a directory that is a link', () => {
    const elsewhere = path.join(home, 'elsewhere')
    mkdirSync(elsewhere, {mode: 0o700})
    writeCodeCache(path.join(elsewhere, path.basename(file)), cache)
    prepareCodeCacheDirectory(directory)
    symlinkSync(path.join(elsewhere, path.basename(file)), file)
    expect(readCodeCache(file, SOURCE)).toBeUndefined()
    rmSync(directory, {recursive: true})
    symlinkSync(elsewhere, directory)
    expect(readCodeCache(file, SOURCE)).toBeUndefined()
    expect(prepareCodeCacheDirectory(directory)).toBe(false)
  })

  it.runIf(isRoot)('root with the HOME of another user neither uses nor makes a cache there', () => {
    chownSync(home, NOBODY, NOBODY)
    expect(prepareCodeCacheDirectory(directory)).toBe(false)
    expect(existsSync(path.dirname(directory))).toBe(false)
    mkdirSync(path.dirname(directory), {mode: 0o700})
    chownSync(path.dirname(directory), NOBODY, NOBODY)
    expect(prepareCodeCacheDirectory(directory)).toBe(false)
    expect(existsSync(directory)).toBe(false)
  })

  it.runIf(isRoot)('ignores a file or a directory owned by another user, and writes nothing into such a directory', () => {
    prepareCodeCacheDirectory(directory)
    writeCodeCache(file, cache)
    chownSync(file, NOBODY, NOBODY)
    expect(readCodeCache(file, SOURCE)).toBeUndefined()
    chownSync(file, 0, 0)
    chownSync(directory, NOBODY, NOBODY)
    expect(readCodeCache(file, SOURCE)).toBeUndefined()
    expect(prepareCodeCacheDirectory(directory)).toBe(false)
    rmSync(file)
    writeCodeCache(file, cache)
    expect(existsSync(file)).toBe(false)
  })

  it('ignores data that fails its checksum, and data compiled from another copy of the bundle', () => {
    prepareCodeCacheDirectory(directory)
    writeCodeCache(file, cache)
    expect(readCodeCache(file, '1847418:1796000000001:42')).toBeUndefined()
    const bytes = readFileSync(file)
    bytes[bytes.length - 3] ^= 0xff
    writeFileSync(file, bytes, {mode: 0o600})
    expect(readCodeCache(file, SOURCE)).toBeUndefined()
  })

  it('reads a truncated or malformed file as no cache, without throwing', () => {
    prepareCodeCacheDirectory(directory)
    const headed = (header: string) => {
      const length = Buffer.alloc(4)
      length.writeUInt32LE(Buffer.byteLength(header))
      return Buffer.concat([length, Buffer.from(header)])
    }
    for (const bytes of [Buffer.alloc(2), Buffer.from([0xff, 0xff, 0, 0, 1, 2]), headed('{"x"'), headed('{"covers":[1],"source":"s","crc32":0}'), headed(`{"covers":[],"source":"${SOURCE}"}`)]) {
      writeFileSync(file, bytes, {mode: 0o600})
      expect(readCodeCache(file, SOURCE)).toBeUndefined()
    }
  })

  it('marks a file read more than half a day after it was written as used, so a file read every day is never stale', () => {
    prepareCodeCacheDirectory(directory)
    writeCodeCache(file, cache)
    const dayAgo = (Date.now() - STALE_CACHE_AGE_MS) / 1000
    utimesSync(file, dayAgo, dayAgo)
    expect(readCodeCache(file, SOURCE)).toBeDefined()
    expect(Date.now() - statSync(file).mtimeMs).toBeLessThan(60_000)
    // Whole seconds: a fraction would not survive the file system's timestamp exactly.
    const hourAgo = Math.floor((Date.now() - 60 * 60 * 1000) / 1000)
    utimesSync(file, hourAgo, hourAgo)
    expect(readCodeCache(file, SOURCE)).toBeDefined()
    expect(statSync(file).mtimeMs).toBe(hourAgo * 1000)
  })

  it("deletes another cache file not written for a day and a killed writer's temporary after an hour; keeps recent ones", () => {
    prepareCodeCacheDirectory(directory)
    const old = codeCacheFile(directory, bundleNamed('aaaaaaaaaaaaaaaa'))
    const recent = codeCacheFile(directory, bundleNamed('bbbbbbbbbbbbbbbb'))
    const oldTemporary = path.join(directory, `.${path.basename(recent)}.123.abcd1234`)
    const recentTemporary = path.join(directory, `.${path.basename(recent)}.124.abcd1235`)
    const unrelated = path.join(directory, 'notes.txt')
    for (const other of [old, recent, oldTemporary, recentTemporary, unrelated]) writeFileSync(other, 'x', {mode: 0o600})
    const setAge = (target: string, ageMs: number) => utimesSync(target, (Date.now() - ageMs) / 1000, (Date.now() - ageMs) / 1000)
    setAge(old, STALE_CACHE_AGE_MS + 60_000)
    setAge(unrelated, STALE_CACHE_AGE_MS + 60_000)
    setAge(oldTemporary, STALE_TEMPORARY_AGE_MS + 60_000)
    setAge(recentTemporary, 60_000)
    writeCodeCache(file, cache)
    expect(readdirSync(directory).sort()).toEqual([path.basename(recent), path.basename(file), path.basename(recentTemporary), 'notes.txt'].sort())
  })

  it('lives in $XDG_CACHE_HOME/saas-ctl when that is an absolute path, else ~/.cache/saas-ctl', () => {
    expect(codeCacheDirectory({XDG_CACHE_HOME: '/var/cache/me'})).toBe('/var/cache/me/saas-ctl')
    expect(codeCacheDirectory({XDG_CACHE_HOME: 'relative'})).toMatch(/[\\/]\.cache[\\/]saas-ctl$/)
    expect(codeCacheDirectory({})).toMatch(/[\\/]\.cache[\\/]saas-ctl$/)
  })

  it('has no directory when the home directory is not an absolute path (never a cache under the working directory)', () => {
    const previous = process.env.HOME
    try {
      process.env.HOME = 'relative-home'
      expect(codeCacheDirectory({})).toBeUndefined()
      expect(codeCacheDirectory({XDG_CACHE_HOME: '/var/cache/me'})).toBe('/var/cache/me/saas-ctl')
    } finally {
      process.env.HOME = previous
    }
  })

  it("records a run by the command it runs, so a command's arguments make no new key; a run naming no command, or asking for help, not at all", () => {
    expect(runKey(['org', 'list', '--json'], COMMAND_IDS)).toBe('org:list')
    expect(runKey(['org:list', '--json'], COMMAND_IDS)).toBe('org:list')
    expect(runKey(['org', 'show', 'acme', '--json'], COMMAND_IDS)).toBe('org:show')
    expect(runKey(['user', '2fa', 'enroll'], COMMAND_IDS)).toBe('user:2fa:enroll')
    expect(runKey(['backup', 'nightly-2026'], COMMAND_IDS)).toBe('backup')
    expect(runKey(['--version'], COMMAND_IDS)).toBe('')
    expect(runKey(['org', 'list', '--help'], COMMAND_IDS)).toBeUndefined()
    expect(runKey(['org'], COMMAND_IDS)).toBeUndefined()
    expect(runKey(['orgs', 'list'], COMMAND_IDS)).toBeUndefined()
  })
})
