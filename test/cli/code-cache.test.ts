import {execFile} from 'node:child_process'
import {chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {readCodeCache} from '../../commands/lib/code-cache.js'
import {BIN, createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import type {TestDatabase} from '../helpers/test-database.js'

// The real binary with its V8 code cache (commands/lib/start-cli.ts) in a cache directory of the
// test's own ($XDG_CACHE_HOME): written once per kind of run, used after, never taken from a file
// someone else could have written, and never a reason for a command to fail.
const isRoot = process.getuid?.() === 0

describe('CLI start from the code cache', () => {
  let database: TestDatabase
  let cli: CliRunner
  let cacheHome: string
  const directory = () => path.join(cacheHome, 'saas-ctl')
  const cacheFiles = () => readdirSync(directory()).filter((name) => name.endsWith('.v8cache'))
  const onlyCacheFile = () => {
    expect(cacheFiles()).toHaveLength(1)
    return path.join(directory(), cacheFiles()[0]!)
  }

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase('sqlite'))
    expect((await cli.run(['org', 'create', '--name', 'Cached', '--slug', 'cached'])).exitCode).toBe(0)
  })
  afterAll(async () => database?.drop())
  beforeEach(() => {
    cacheHome = mkdtempSync(path.join(tmpdir(), 'saasctl-cache-home-'))
    return () => rmSync(cacheHome, {recursive: true, force: true})
  })

  async function listOrgs(): Promise<string[]> {
    const env = {...process.env, SAASCTL_DATABASE_URL: database.url, XDG_CACHE_HOME: cacheHome}
    const {stdout} = await promisify(execFile)(process.execPath, [BIN, 'org', 'list', '--json'], {cwd: cli.cwd, env, timeout: 20_000})
    return (JSON.parse(stdout) as Array<{slug: string}>).map((org) => org.slug)
  }

  it('writes a 0600 cache in a 0700 directory on the first run, uses it unchanged on the next, and adds a new kind of run', async () => {
    expect(await listOrgs()).toEqual(['cached'])
    const file = onlyCacheFile()
    expect(statSync(directory()).mode & 0o777).toBe(0o700)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readCodeCache(file)?.covers).toEqual(['org:list'])
    const written = statSync(file)

    expect(await listOrgs()).toEqual(['cached'])
    expect(statSync(file).ino).toBe(written.ino)
    expect(statSync(file).mtimeMs).toBe(written.mtimeMs)

    const env = {...process.env, XDG_CACHE_HOME: cacheHome}
    await promisify(execFile)(process.execPath, [BIN, '--version'], {cwd: cli.cwd, env, timeout: 20_000})
    expect(readCodeCache(onlyCacheFile())?.covers).toEqual(['org:list', ''])
  })

  it('does not use a cache file that others could have written: the run replaces it with its own', async () => {
    expect(await listOrgs()).toEqual(['cached'])
    const file = onlyCacheFile()
    // A valid cache covering this run, as another user could leave it: were it used, nothing would be written.
    const planted = path.join(cacheHome, 'planted')
    copyFileSync(file, planted)
    rmSync(file)
    copyFileSync(planted, file)
    chmodSync(file, 0o666)
    const plantedInode = statSync(file).ino

    expect(await listOrgs()).toEqual(['cached'])
    expect(statSync(file).ino).not.toBe(plantedInode)
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it('runs the command from a cache V8 refuses (corrupt), and writes a good one', async () => {
    mkdirSync(directory(), {mode: 0o700})
    expect(await listOrgs()).toEqual(['cached'])
    const file = onlyCacheFile()
    const header = Buffer.from(JSON.stringify({covers: ['org:list']}))
    const length = Buffer.alloc(4)
    length.writeUInt32LE(header.length)
    writeFileSync(file, Buffer.concat([length, header, Buffer.from('not V8 code at all')]), {mode: 0o600})

    expect(await listOrgs()).toEqual(['cached'])
    expect(readCodeCache(file)?.data.length).toBeGreaterThan(100_000)
  })

  it.runIf(isRoot)("runs without a cache where the cache directory is another user's, writing nothing there", async () => {
    mkdirSync(directory(), {mode: 0o755})
    chownSync(directory(), 65534, 65534)
    expect(await listOrgs()).toEqual(['cached'])
    expect(cacheFiles()).toEqual([])
  })
})
