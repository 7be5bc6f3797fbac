import {afterAll, beforeAll, expect, it} from 'vitest'
import {startDaemonProcess, type DaemonProcess} from '../helpers/daemon-process.js'
import {createCliRunner, type CliRunner} from '../helpers/run-cli.js'
import {createTestDatabase, describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// Issue 7: locks live in the database, so a lock made before a restart still holds after it;
// `saas-ctl user unlock`, run as a process, lifts it for the running daemon.
describeEachDialect('lockout across a daemon restart', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner
  let daemon: DaemonProcess | undefined
  const password = 'correct horse battery staple'
  const email = 'locked-out@example.com'
  const env = {SAASCTL_LOCKOUT_THRESHOLD: '3', SAASCTL_FAILED_ATTEMPTS_PER_MINUTE: '100'}

  beforeAll(async () => {
    database = await createTestDatabase(dialect)
    cli = createCliRunner(database.url)
    daemon = await startDaemonProcess(database.url, {args: ['--migrate'], env})
  })
  afterAll(async () => {
    await daemon?.stop()
    await database?.drop()
  })

  const login = async (pass: string) => {
    const response = await fetch(`${daemon!.url}/v1/auth/login`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({email, password: pass})})
    return {status: response.status, retryAfter: response.headers.get('retry-after'), code: ((await response.json()) as {error?: {code: string}}).error?.code}
  }

  it('holds after a restart, and user unlock (a process) lifts it', async () => {
    const registered = await fetch(`${daemon!.url}/v1/auth/register`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({email, password})})
    expect(registered.status).toBe(201)
    for (let attempt = 0; attempt < 3; attempt += 1) expect(await login('not the password')).toMatchObject({status: 401, code: 'auth.invalid_credentials'})
    expect(await login(password)).toMatchObject({status: 429, code: 'auth.too_many_attempts', retryAfter: expect.stringMatching(/^\d+$/)})

    expect(await daemon!.stop()).toBe(0)
    daemon = await startDaemonProcess(database.url, {env})
    expect(await login(password)).toMatchObject({status: 429, code: 'auth.too_many_attempts'})

    const unlocked = await cli.run(['user', 'unlock', email])
    expect(unlocked.exitCode).toBe(0)
    expect(unlocked.stdout.trim().split('\n')).toEqual([`Unlocked user ${email}`])
    expect(await login(password)).toMatchObject({status: 200})
    const again = await cli.run(['user', 'unlock', email, '--json'])
    expect(again.exitCode).toBe(0)
    expect(again.json).toMatchObject({user: {email}, was_locked: false})
    expect((await cli.run(['user', 'unlock', 'nobody@example.com'])).exitCode).toBe(66)
  })
})
