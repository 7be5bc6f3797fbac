import {chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {codeCacheDirectory, codeCacheFile, readCodeCache, runKey, STALE_CACHE_AGE_MS, writeCodeCache} from '../../commands/lib/code-cache.js'

// The CLI's V8 code cache (commands/lib/code-cache.ts) on real files: the cache is code the CLI runs,
// so only a file the user alone could have written may be used.
const isRoot = process.getuid?.() === 0
const NOBODY = 65534
const cache = {data: Buffer.from('compiled code'), covers: ['org:list']}

describe('CLI code cache files', () => {
  let base: string
  let directory: string
  let file: string

  beforeEach(() => {
    base = mkdtempSync(path.join(tmpdir(), 'saasctl-code-cache-'))
    directory = path.join(base, 'saas-ctl')
    file = codeCacheFile(directory, '0123456789abcdef')
  })
  afterEach(() => rmSync(base, {recursive: true, force: true}))

  it('writes a 0600 file in a 0700 directory and reads back the data and the runs it covers', () => {
    writeCodeCache(file, cache)
    expect(statSync(directory).mode & 0o777).toBe(0o700)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(path.basename(file)).toBe(`cli-0123456789abcdef-${process.version}-${process.arch}.v8cache`)
    const read = readCodeCache(file)
    expect(read?.covers).toEqual(['org:list'])
    expect(read?.data.toString()).toBe('compiled code')
    expect(readdirSync(directory)).toEqual([path.basename(file)])
  })

  it('ignores a file that group or others could have written, or a directory they could write in', () => {
    writeCodeCache(file, cache)
    chmodSync(file, 0o666)
    expect(readCodeCache(file)).toBeUndefined()
    chmodSync(file, 0o600)
    expect(readCodeCache(file)).toBeDefined()
    chmodSync(directory, 0o777)
    expect(readCodeCache(file)).toBeUndefined()
  })

  it('ignores a symbolic link in place of the file, and a directory that is a link', () => {
    const elsewhere = path.join(base, 'elsewhere')
    writeCodeCache(path.join(elsewhere, path.basename(file)), cache)
    mkdirSync(directory, {mode: 0o700})
    symlinkSync(path.join(elsewhere, path.basename(file)), file)
    expect(readCodeCache(file)).toBeUndefined()
    rmSync(directory, {recursive: true})
    symlinkSync(elsewhere, directory)
    expect(readCodeCache(file)).toBeUndefined()
  })

  it.runIf(isRoot)('ignores a file or a directory owned by another user, and writes nothing into such a directory', () => {
    writeCodeCache(file, cache)
    chownSync(file, NOBODY, NOBODY)
    expect(readCodeCache(file)).toBeUndefined()
    chownSync(file, 0, 0)
    chownSync(directory, NOBODY, NOBODY)
    expect(readCodeCache(file)).toBeUndefined()
    rmSync(file)
    writeCodeCache(file, cache)
    expect(existsSync(file)).toBe(false)
  })

  it('reads a truncated or malformed file as no cache, without throwing', () => {
    mkdirSync(directory, {mode: 0o700})
    for (const bytes of [Buffer.alloc(2), Buffer.from([0xff, 0xff, 0, 0, 1, 2]), Buffer.concat([Buffer.from([4, 0, 0, 0]), Buffer.from('{"x"')]), Buffer.concat([Buffer.from([13, 0, 0, 0]), Buffer.from('{"covers":[1]}')])]) {
      writeFileSync(file, bytes, {mode: 0o600})
      expect(readCodeCache(file)).toBeUndefined()
    }
  })

  it("deletes another build's cache file once it is a day old, and keeps a recent one", () => {
    mkdirSync(directory, {mode: 0o700})
    const old = codeCacheFile(directory, 'aaaaaaaaaaaaaaaa')
    const recent = codeCacheFile(directory, 'bbbbbbbbbbbbbbbb')
    const unrelated = path.join(directory, 'notes.txt')
    for (const other of [old, recent, unrelated]) writeFileSync(other, 'x', {mode: 0o600})
    const dayAndMinuteAgo = (Date.now() - STALE_CACHE_AGE_MS - 60_000) / 1000
    utimesSync(old, dayAndMinuteAgo, dayAndMinuteAgo)
    utimesSync(unrelated, dayAndMinuteAgo, dayAndMinuteAgo)
    writeCodeCache(file, cache)
    expect(readdirSync(directory).sort()).toEqual([path.basename(recent), path.basename(file), 'notes.txt'].sort())
  })

  it('lives in $XDG_CACHE_HOME/saas-ctl when that is an absolute path, else ~/.cache/saas-ctl', () => {
    expect(codeCacheDirectory({XDG_CACHE_HOME: '/var/cache/me'})).toBe('/var/cache/me/saas-ctl')
    expect(codeCacheDirectory({XDG_CACHE_HOME: 'relative'})).toMatch(/[\\/]\.cache[\\/]saas-ctl$/)
    expect(codeCacheDirectory({})).toMatch(/[\\/]\.cache[\\/]saas-ctl$/)
  })

  it('has no directory when the home directory is not an absolute path (never a cache under the working directory)', () => {
    const home = process.env.HOME
    try {
      process.env.HOME = 'relative-home'
      expect(codeCacheDirectory({})).toBeUndefined()
      expect(codeCacheDirectory({XDG_CACHE_HOME: '/var/cache/me'})).toBe('/var/cache/me/saas-ctl')
    } finally {
      process.env.HOME = home
    }
  })

  it("records a run by its leading command words, at most two, so a command's arguments make no new key", () => {
    expect(runKey(['org', 'list', '--json'])).toBe('org:list')
    expect(runKey(['org', 'show', 'acme', '--json'])).toBe('org:show')
    expect(runKey(['user', '2fa', 'enroll'])).toBe('user:2fa')
    expect(runKey(['backup', '/tmp/saas.db'])).toBe('backup')
    expect(runKey(['--version'])).toBe('')
  })
})
