import {afterAll, beforeAll, expect, it} from 'vitest'
import {startDaemonProcess, waitUntil, type DaemonProcess} from '../helpers/daemon-process.js'
import {createCliRunner, type CliRunner} from '../helpers/run-cli.js'
import {createTestDatabase, describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// Issue 3, acceptance item 4: a revocation made in one process reaches every daemon on the
// same database within 2 seconds — daemon A → daemon B, and CLI → daemon.
describeEachDialect('revocation across processes', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner
  let daemonA: DaemonProcess
  let daemonB: DaemonProcess
  const password = 'correct horse battery staple'

  beforeAll(async () => {
    database = await createTestDatabase(dialect)
    cli = createCliRunner(database.url)
    daemonA = await startDaemonProcess(database.url, {args: ['--migrate']})
    daemonB = await startDaemonProcess(database.url)
  })
  afterAll(async () => {
    await daemonA?.stop()
    await daemonB?.stop()
    await database?.drop()
  })

  async function post(daemon: DaemonProcess, route: string, body: unknown, token?: string) {
    const response = await fetch(`${daemon.url}${route}`, {
      method: 'POST',
      headers: {'content-type': 'application/json', ...(token ? {authorization: `Bearer ${token}`} : {})},
      body: JSON.stringify(body),
    })
    return {status: response.status, json: (await response.json().catch(() => null)) as any}
  }

  async function meStatus(daemon: DaemonProcess, token: string): Promise<number> {
    return (await fetch(`${daemon.url}/v1/auth/me`, {headers: {authorization: `Bearer ${token}`}})).status
  }

  async function login(email: string): Promise<{accessToken: string; sessionId: string}> {
    const tokens = await post(daemonA, '/v1/auth/login', {email, password})
    expect(tokens.status).toBe(200)
    const me = await fetch(`${daemonB.url}/v1/auth/me`, {headers: {authorization: `Bearer ${tokens.json.access_token}`}})
    expect(me.status).toBe(200)
    return {accessToken: tokens.json.access_token, sessionId: ((await me.json()) as any).session.id}
  }

  it('a logout in daemon A is refused by daemon B within 2 s', async () => {
    expect((await post(daemonA, '/v1/auth/register', {email: 'ann@example.com', password})).status).toBe(201)
    const {accessToken} = await login('ann@example.com')
    expect((await post(daemonA, '/v1/auth/logout', {}, accessToken)).status).toBeLessThan(300)
    const tookMilliseconds = await waitUntil(async () => (await meStatus(daemonB, accessToken)) === 401, 2_000)
    expect(tookMilliseconds).toBeLessThanOrEqual(2_000)
  })

  it('`saas-ctl session revoke` run as a process is refused by a running daemon within 2 s', async () => {
    const {accessToken, sessionId} = await login('ann@example.com')
    const revoked = await cli.run(['session', 'revoke', sessionId, '--json'])
    expect(revoked.exitCode).toBe(0)
    await waitUntil(async () => (await meStatus(daemonA, accessToken)) === 401 && (await meStatus(daemonB, accessToken)) === 401, 2_000)
  })

  it('a 6th login revokes the oldest session, and `saas-ctl session list` shows 5', async () => {
    expect((await post(daemonA, '/v1/auth/register', {email: 'sam@example.com', password})).status).toBe(201)
    const first = await login('sam@example.com')
    for (let index = 0; index < 5; index++) await login('sam@example.com')
    const sessions = await cli.run(['session', 'list', '--user', 'sam@example.com', '--json'])
    expect(sessions.exitCode).toBe(0)
    expect(sessions.json).toHaveLength(5)
    expect(sessions.json.map((session: {id: string}) => session.id)).not.toContain(first.sessionId)
    await waitUntil(async () => (await meStatus(daemonB, first.accessToken)) === 401, 2_000)
  })

  it('`saas-ctl user disable` run as a process is refused by a running daemon within 2 s', async () => {
    const {accessToken} = await login('ann@example.com')
    expect((await cli.run(['user', 'disable', 'ann@example.com'])).exitCode).toBe(0)
    await waitUntil(async () => (await meStatus(daemonA, accessToken)) === 401 && (await meStatus(daemonB, accessToken)) === 401, 2_000)
    expect((await post(daemonB, '/v1/auth/login', {email: 'ann@example.com', password})).status).toBe(403)
  })

  it('stops with exit code 0 on SIGTERM', async () => {
    expect(await daemonB.stop()).toBe(0)
  })
})
