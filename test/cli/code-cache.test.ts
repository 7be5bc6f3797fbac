import {execFile} from 'node:child_process'
import {chmodSync, chownSync, copyFileSync, cpSync, existsSync, symlinkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {readCodeCache} from '../../commands/lib/code-cache.js'
import {BIN, createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import type {TestDatabase} from '../helpers/test-database.js'

/** The bundle copy a cache file says it was compiled from (its header), to read the file as the CLI would. */
function readCodeCacheSource(file: string): string {
  const bytes = readFileSync(file)
  return (JSON.parse(bytes.subarray(4, 4 + bytes.readUInt32LE(0)).toString('utf8')) as {source: string}).source
}

// The real binary with its V8 code cache (commands/lib/start-cli.ts) in a cache directory of the
// test's own ($XDG_CACHE_HOME): written once per kind of run, used after, never taken from a file
// someone else could have written, and never a reason for a command to fail.
const isRoot = process.getuid?.() === 0
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

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

  async function listOrgs(moreEnv: Record<string, string> = {}): Promise<string[]> {
    const env = {...process.env, SAASCTL_DATABASE_URL: database.url, XDG_CACHE_HOME: cacheHome, ...moreEnv}
    const {stdout} = await promisify(execFile)(process.execPath, [BIN, 'org', 'list', '--json'], {cwd: cli.cwd, env, timeout: 20_000})
    return (JSON.parse(stdout) as Array<{slug: string}>).map((org) => org.slug)
  }

  /** Runs the binary with these arguments, whatever its exit status. */
  async function runBinary(args: string[]): Promise<{exitCode: number; stdout: string}> {
    const env = {...process.env, SAASCTL_DATABASE_URL: database.url, XDG_CACHE_HOME: cacheHome}
    try {
      const {stdout} = await promisify(execFile)(process.execPath, [BIN, ...args], {cwd: cli.cwd, env, timeout: 20_000})
      return {exitCode: 0, stdout}
    } catch (error) {
      const failed = error as {code?: number; stdout?: string}
      return {exitCode: failed.code ?? -1, stdout: failed.stdout ?? ''}
    }
  }

  it('writes a 0600 cache in a 0700 directory on the first run, uses it unchanged on the next, and adds a new kind of run', async () => {
    expect(await listOrgs()).toEqual(['cached'])
    const file = onlyCacheFile()
    expect(statSync(directory()).mode & 0o777).toBe(0o700)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readCodeCache(file, readCodeCacheSource(file))?.covers).toEqual(['org:list'])
    const written = statSync(file)

    expect(await listOrgs()).toEqual(['cached'])
    expect(statSync(file).ino).toBe(written.ino)
    expect(statSync(file).mtimeMs).toBe(written.mtimeMs)

    const env = {...process.env, XDG_CACHE_HOME: cacheHome}
    await promisify(execFile)(process.execPath, [BIN, '--version'], {cwd: cli.cwd, env, timeout: 20_000})
    expect(readCodeCache(onlyCacheFile(), readCodeCacheSource(onlyCacheFile()))?.covers).toEqual(['org:list', ''])
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

  it('runs the command from a damaged cache (bytes changed in its data, which V8 would not notice) and writes a good one', async () => {
    expect(await listOrgs()).toEqual(['cached'])
    const file = onlyCacheFile()
    const bytes = readFileSync(file)
    for (let offset = Math.floor(bytes.length / 2); offset < Math.floor(bytes.length / 2) + 64; offset++) bytes[offset] ^= 0x5a
    writeFileSync(file, bytes, {mode: 0o600})
    const damagedInode = statSync(file).ino

    expect(await listOrgs()).toEqual(['cached'])
    expect(statSync(file).ino).not.toBe(damagedInode)
    expect(readCodeCache(file, readCodeCacheSource(file))?.covers).toEqual(['org:list'])
  })

  it('keeps a file per set of Node flags, so runs with and without NODE_OPTIONS do not rewrite each other', async () => {
    expect(await listOrgs()).toEqual(['cached'])
    expect(await listOrgs({NODE_OPTIONS: '--max-old-space-size=256'})).toEqual(['cached'])
    expect(cacheFiles()).toHaveLength(2)
    const written = cacheFiles().map((name) => statSync(path.join(directory(), name)).mtimeMs)
    expect(await listOrgs()).toEqual(['cached'])
    expect(await listOrgs({NODE_OPTIONS: '--max-old-space-size=256'})).toEqual(['cached'])
    expect(cacheFiles().map((name) => statSync(path.join(directory(), name)).mtimeMs)).toEqual(written)
  })

  it('keeps a file per copy of the bundle, so two installs of one build used in turn do not rewrite each other', async () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'saasctl-second-install-'))
    try {
      for (const entry of ['bin', 'dist/cli', 'data', 'package.json', 'oclif.manifest.json']) cpSync(path.join(ROOT, entry), path.join(copy, entry), {recursive: true})
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'))
      const env = {...process.env, SAASCTL_DATABASE_URL: database.url, XDG_CACHE_HOME: cacheHome}
      const listWithCopy = async () => JSON.parse((await promisify(execFile)(process.execPath, [path.join(copy, 'bin', 'run.js'), 'org', 'list', '--json'], {cwd: cli.cwd, env, timeout: 20_000})).stdout) as unknown[]
      expect(await listOrgs()).toEqual(['cached'])
      expect(await listWithCopy()).toHaveLength(1)
      expect(cacheFiles()).toHaveLength(2)
      const inodes = () => cacheFiles().map((name) => statSync(path.join(directory(), name)).ino)
      const written = inodes()
      expect(await listOrgs()).toEqual(['cached'])
      expect(await listWithCopy()).toHaveLength(1)
      expect(inodes()).toEqual(written)
    } finally {
      rmSync(copy, {recursive: true, force: true})
    }
  })

  it('writes nothing for a help run or a failed run: neither compiled what the command needs', async () => {
    const help = await runBinary(['org', 'list', '--help'])
    expect(help.exitCode).toBe(0)
    expect(help.stdout).toContain('USAGE')
    const failed = await runBinary(['org', 'show', 'no-such-org', '--json'])
    expect(failed.exitCode).not.toBe(0)
    expect(existsSync(directory()) ? cacheFiles() : []).toEqual([])
  })

  it('runs as usual where the cache directory cannot be made (XDG_CACHE_HOME is a file)', async () => {
    const notADirectory = path.join(cacheHome, 'file')
    writeFileSync(notADirectory, '')
    const env = {...process.env, SAASCTL_DATABASE_URL: database.url, XDG_CACHE_HOME: notADirectory}
    const {stdout, stderr} = await promisify(execFile)(process.execPath, [BIN, 'org', 'list', '--json'], {cwd: cli.cwd, env, timeout: 20_000})
    expect((JSON.parse(stdout) as Array<{slug: string}>).map((org) => org.slug)).toEqual(['cached'])
    expect(stderr).toBe('')
  })

  it.runIf(isRoot)("runs without a cache where the cache directory is another user's, writing nothing there", async () => {
    mkdirSync(directory(), {mode: 0o755})
    chownSync(directory(), 65534, 65534)
    expect(await listOrgs()).toEqual(['cached'])
    expect(cacheFiles()).toEqual([])
  })
})
