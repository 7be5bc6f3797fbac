import {decodeProtectedHeader} from 'jose'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {startDaemonProcess, waitUntil, type DaemonProcess} from '../helpers/daemon-process.js'
import {createCliRunner, type CliRunner} from '../helpers/run-cli.js'
import {createTestDatabase, describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// Issue 7, review item 4: `saas-ctl keys revoke <kid>`, run as a process, distrusts a
// compromised key on every running daemon within 2 s — tokens they already verified included.
describeEachDialect('keys revoke across daemons', (dialect) => {
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

  const post = async (daemon: DaemonProcess, route: string, body: unknown) => {
    const response = await fetch(`${daemon.url}${route}`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)})
    return {status: response.status, json: (await response.json().catch(() => null)) as any}
  }
  const meStatus = async (daemon: DaemonProcess, token: string) => (await fetch(`${daemon.url}/v1/auth/me`, {headers: {authorization: `Bearer ${token}`}})).status
  const publishedKids = async (daemon: DaemonProcess) => ((await (await fetch(`${daemon.url}/.well-known/jwks.json`)).json()) as {keys: {kid: string}[]}).keys.map((key) => key.kid)

  it('the active key revoked by the CLI: both daemons refuse its tokens within 2 s, and sign with the new key', async () => {
    expect((await post(daemonA, '/v1/auth/register', {email: 'kim@example.com', password})).status).toBe(201)
    const login = await post(daemonA, '/v1/auth/login', {email: 'kim@example.com', password})
    expect(login.status).toBe(200)
    const token: string = login.json.access_token
    const kid = decodeProtectedHeader(token).kid!
    // Both daemons have verified (and cached) it.
    expect(await meStatus(daemonA, token)).toBe(200)
    expect(await meStatus(daemonB, token)).toBe(200)

    // A kid is a base64url thumbprint and may start with '-': after '--' it is never read as a flag.
    const revoked = await cli.run(['keys', 'revoke', '--json', '--', kid])
    expect(revoked.exitCode).toBe(0)
    expect(revoked.json).toMatchObject({kid, was_active: true, new_active_kid: expect.any(String)})
    const took = await waitUntil(async () => (await meStatus(daemonA, token)) === 401 && (await meStatus(daemonB, token)) === 401, 2_000)
    expect(took).toBeLessThanOrEqual(2_000)
    expect(await publishedKids(daemonB)).not.toContain(kid)

    const again = await post(daemonB, '/v1/auth/login', {email: 'kim@example.com', password})
    expect(again.status).toBe(200)
    expect(decodeProtectedHeader(again.json.access_token).kid).toBe(revoked.json.new_active_kid)
    expect(await meStatus(daemonA, again.json.access_token)).toBe(200)
  })

  it('an unknown kid is key.not_found (exit 66)', async () => {
    const result = await cli.run(['keys', 'revoke', 'no-such-kid'])
    expect(result.exitCode).toBe(66)
    expect(result.stderr).toContain('[key.not_found]')
  })
})
