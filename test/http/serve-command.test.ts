import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {BIN} from '../helpers/run-cli.js'
import {TEST_POSTGRES_URL} from '../helpers/postgres-availability.js'
import {createTestDatabase, type TestDatabase} from '../helpers/test-database.js'
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
    const env = {SAASCTL_DATABASE_URL: database.url}
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
})
