import {spawn, type ChildProcess} from 'node:child_process'
import {chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {BIN} from '../helpers/run-cli.js'
import {TEST_POSTGRES_URL} from '../helpers/postgres-availability.js'
import {createTestDatabase, TEST_SECRET_KEY, type TestDatabase} from '../helpers/test-database.js'
import {findFreePort, request} from './http-harness.js'

interface ServeProcess {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves with the URL of the "listening on" line, or rejects if the process exits first. */
  listening: Promise<string>
  exited: Promise<number | null>
}

/** `saas-ctl serve <args>` as a real process, with its own environment (no inherited SAASCTL_*). */
function startServe(args: string[], options: {cwd: string; env?: Record<string, string>}): ServeProcess {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SAASCTL_')))
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {cwd: options.cwd, env: {...inherited, NODE_ENV: 'production', ...options.env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => (stdout += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const listening = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      stderr += chunk
      const match = /saas-ctl listening on (http:\/\/\S+)/.exec(stderr)
      if (match) resolve(match[1]!)
    })
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)))
  })
  listening.catch(() => {})
  return {child, stdout: () => stdout, stderr: () => stderr, listening, exited}
}

const started: ServeProcess[] = []
const directories: string[] = []

function temporaryDirectory(): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'saasctl-serve-'))
  directories.push(directory)
  return directory
}

function serve(args: string[], options: {cwd: string; env?: Record<string, string>}): ServeProcess {
  const spawned = startServe(args, options)
  started.push(spawned)
  return spawned
}

afterEach(async () => {
  for (const spawned of started.splice(0)) {
    if (spawned.child.exitCode === null && spawned.child.signalCode === null) {
      spawned.child.kill('SIGKILL')
      await spawned.exited
    }
  }
})
afterAll(() => {
  for (const directory of directories) rmSync(directory, {recursive: true, force: true})
})

describe('saas-ctl serve (a real process) on the default SQLite database', () => {
  it('creates and migrates the database on first start, answers, and exits 0 on SIGTERM', async () => {
    const cwd = temporaryDirectory()
    const daemon = serve([], {cwd, env: {SAASCTL_PORT: '0'}})
    const url = await daemon.listening
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(existsSync(path.join(cwd, 'saas-ctl.db'))).toBe(true)
    expect((await request(`${url}/health`)).json).toEqual({status: 'ok'})
    expect((await request(`${url}/ready`)).status).toBe(200)
    expect((await request(`${url}/openapi.json`)).json.openapi).toBe('3.1.0')
    expect((await request(`${url}/metrics`)).text).toContain('saasctl_http_requests_total')

    daemon.child.kill('SIGTERM')
    expect(await daemon.exited).toBe(0)
    const lines = daemon.stdout().split('\n').filter(Boolean).map((line) => JSON.parse(line))
    expect(lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['listening', 'request', 'shutting down', 'stopped']))
    expect(lines.find((line) => line.msg === 'shutting down').reason).toBe('SIGTERM')
  })

  it('takes --host and --port over the environment, and exits 0 on SIGINT', async () => {
    const cwd = temporaryDirectory()
    const [port, otherPort] = [await findFreePort(), await findFreePort()]
    const daemon = serve(['--host', '127.0.0.1', '--port', String(port)], {cwd, env: {SAASCTL_PORT: String(otherPort), SAASCTL_HOST: '0.0.0.0'}})
    expect(await daemon.listening).toBe(`http://127.0.0.1:${port}`)
    expect((await request(`http://127.0.0.1:${port}/health`)).status).toBe(200)
    daemon.child.kill('SIGINT')
    expect(await daemon.exited).toBe(0)
  })

  it('refuses a port in use with daemon.listen_failed (exit 69)', async () => {
    const cwd = temporaryDirectory()
    const first = serve(['--port', '0'], {cwd})
    const port = new URL(await first.listening).port
    const second = serve(['--port', port], {cwd})
    expect(await second.exited).toBe(69)
    expect(second.stderr()).toContain('[daemon.listen_failed]')
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
  })
})

// Issue 7, review item 1: the database, its -wal/-shm and key file are private; serve refuses
// files others can read unless told otherwise.
describe('saas-ctl serve: private files', () => {
  it('creates the database, -wal, -shm and secret key file 0600', async () => {
    const cwd = temporaryDirectory()
    const daemon = serve(['--port', '0'], {cwd})
    await daemon.listening
    for (const name of ['saas-ctl.db', 'saas-ctl.db-wal', 'saas-ctl.db-shm', 'saas-ctl.db.secret-key']) {
      expect({name, mode: statSync(path.join(cwd, name)).mode & 0o777}).toEqual({name, mode: 0o600})
    }
    daemon.child.kill('SIGTERM')
    expect(await daemon.exited).toBe(0)
  })

  it('refuses a database file others can read with daemon.insecure_file (exit 77); --allow-insecure-files serves anyway', async () => {
    const cwd = temporaryDirectory()
    const first = serve(['--port', '0'], {cwd})
    await first.listening
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    chmodSync(path.join(cwd, 'saas-ctl.db'), 0o644)

    const refused = serve(['--port', '0'], {cwd})
    expect(await refused.exited).toBe(77)
    expect(refused.stderr()).toContain('[daemon.insecure_file]')
    expect(refused.stderr()).toContain('saas-ctl.db')

    const brave = serve(['--port', '0', '--allow-insecure-files'], {cwd})
    await brave.listening
    brave.child.kill('SIGTERM')
    expect(await brave.exited).toBe(0)
  })

  it('refuses a config file others can read', async () => {
    const cwd = temporaryDirectory()
    const configFile = path.join(cwd, 'saas-ctl.config.json')
    writeFileSync(configFile, JSON.stringify({port: 0}), {mode: 0o644})
    chmodSync(configFile, 0o644)
    const refused = serve([], {cwd})
    expect(await refused.exited).toBe(77)
    expect(refused.stderr()).toContain('[daemon.insecure_file]')
    expect(refused.stderr()).toContain('saas-ctl.config.json')
    chmodSync(configFile, 0o600)
    const daemon = serve([], {cwd})
    await daemon.listening
    daemon.child.kill('SIGTERM')
    expect(await daemon.exited).toBe(0)
  })
})

const describePostgres = TEST_POSTGRES_URL ? describe : describe.skip

describePostgres('saas-ctl serve (a real process) on Postgres', () => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase('postgres')
  })
  afterAll(async () => {
    await database?.drop()
  })

  it('refuses to start with pending migrations, naming --migrate; with --migrate it migrates and serves', async () => {
    const cwd = temporaryDirectory()
    const env = {SAASCTL_DATABASE_URL: database.url, SAASCTL_SECRET_KEY: TEST_SECRET_KEY}
    const refused = serve(['--port', '0'], {cwd, env})
    expect(await refused.exited).toBe(69)
    expect(refused.stderr()).toContain('[db.migrations_pending]')
    expect(refused.stderr()).toContain('--migrate')

    const daemon = serve(['--port', '0', '--migrate'], {cwd, env})
    const url = await daemon.listening
    expect((await request(`${url}/ready`)).json).toEqual({status: 'ok'})
    daemon.child.kill('SIGTERM')
    expect(await daemon.exited).toBe(0)

    const again = serve(['--port', '0'], {cwd, env})
    await again.listening
    again.child.kill('SIGTERM')
    expect(await again.exited).toBe(0)
  })

  it('refuses to start without secret_key, with secret_key.required (exit 64)', async () => {
    const cwd = temporaryDirectory()
    const refused = serve(['--port', '0', '--migrate'], {cwd, env: {SAASCTL_DATABASE_URL: database.url}})
    expect(await refused.exited).toBe(64)
    expect(refused.stderr()).toContain('[secret_key.required]')
    expect(refused.stderr()).toContain('SAASCTL_SECRET_KEY')
  })
})
