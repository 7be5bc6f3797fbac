import {afterAll, beforeAll, expect, it} from 'vitest'
import {startRevocationFollower} from '../../src/identity/revocation-follower.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// Sessions over HTTP: listing, revoking one's own and someone else's, the per-user limit,
// logout-all and change-password. The revocation follower is wired as `saas-ctl serve` wires it.

const PASSWORD = 'correct horse battery staple'
const NEW_PASSWORD = 'a brand new passphrase'

async function startDaemonWithFollower(dialect: Parameters<typeof startTestDaemon>[0]): Promise<TestDaemon> {
  const daemon = await startTestDaemon(dialect)
  const {core} = daemon.testCore
  const follower = await startRevocationFollower({db: core.database.db, cache: core.revocations, clock: core.clock, pollMilliseconds: 100})
  const unsubscribe = core.revocationSignal.subscribe(() => follower.syncNow())
  daemon.running.addShutdownHook({name: 'revocation signal', stop: () => void unsubscribe()})
  daemon.running.addShutdownHook({name: 'revocation follower', stop: () => follower.stop()})
  return daemon
}

interface Tokens {
  access_token: string
  refresh_token: string
  session_id: string
}

describeEachDialect('auth sessions over HTTP', (dialect) => {
  let daemon: TestDaemon
  let emailCounter = 0

  const send = (method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) =>
    request(`${daemon.url}${path}`, {
      method,
      headers: {...(body === undefined ? {} : {'content-type': 'application/json'}), ...(token ? {authorization: `Bearer ${token}`} : {}), ...headers},
      body: body === undefined ? undefined : JSON.stringify(body),
    })

  async function register(label: string): Promise<{email: string; userId: string; tokens: Tokens}> {
    const email = `${label}-${++emailCounter}-${dialect}@example.com`
    const response = await send('POST', '/v1/auth/register', undefined, {email, password: PASSWORD})
    expect(response.status).toBe(201)
    return {email, userId: response.json.user.id, tokens: response.json}
  }

  async function login(email: string, userAgent = 'auth-sessions-test', password = PASSWORD): Promise<Tokens> {
    const response = await send('POST', '/v1/auth/login', undefined, {email, password}, {'user-agent': userAgent})
    expect(response.status).toBe(200)
    return response.json
  }

  async function expectRefused(token: string) {
    const response = await send('GET', '/v1/auth/me', token)
    expect({status: response.status, code: response.json?.error?.code}).toEqual({status: 401, code: 'auth.invalid_token'})
  }

  async function expectAccepted(token: string) {
    expect((await send('GET', '/v1/auth/me', token)).status).toBe(200)
  }

  async function listSessions(token: string): Promise<{id: string; is_current?: boolean; user_agent: string | null; ip: string | null; user_id: string}[]> {
    const response = await send('GET', '/v1/auth/sessions', token)
    expect(response.status).toBe(200)
    return response.json.sessions
  }

  beforeAll(async () => {
    daemon = await startDaemonWithFollower(dialect)
  })
  afterAll(async () => {
    await daemon?.close()
  })

  it('lists the caller’s live sessions, newest first, marking the current one', async () => {
    const {email, userId, tokens: registered} = await register('List')
    daemon.testCore.clock.advance(1000)
    const browser = await login(email, 'Mozilla/5.0 (test browser)')
    daemon.testCore.clock.advance(1000)
    const phone = await login(email, 'test-phone/1.0')

    const sessions = await listSessions(browser.access_token)
    expect(sessions.map((session) => session.id)).toEqual([phone.session_id, browser.session_id, registered.session_id])
    expect(sessions.map((session) => session.is_current)).toEqual([false, true, false])
    expect(sessions.every((session) => session.user_id === userId)).toBe(true)
    expect(sessions[0]!.user_agent).toBe('test-phone/1.0')
    expect(sessions[1]!.user_agent).toBe('Mozilla/5.0 (test browser)')
    expect(sessions[0]!.ip).toMatch(/127\.0\.0\.1/)
  })

  it('revokes one of the caller’s sessions; someone else’s session or an unknown id is 404', async () => {
    const alice = await register('Alice')
    const aliceOther = await login(alice.email)
    const bob = await register('Bob')

    const foreign = await send('DELETE', `/v1/auth/sessions/${bob.tokens.session_id}`, alice.tokens.access_token)
    expect({status: foreign.status, code: foreign.json.error.code}).toEqual({status: 404, code: 'session.not_found'})
    await expectAccepted(bob.tokens.access_token)

    const unknown = await send('DELETE', '/v1/auth/sessions/00000000-0000-7000-8000-000000000000', alice.tokens.access_token)
    expect({status: unknown.status, code: unknown.json.error.code}).toEqual({status: 404, code: 'session.not_found'})

    const revoked = await send('DELETE', `/v1/auth/sessions/${aliceOther.session_id}`, alice.tokens.access_token)
    expect(revoked.status).toBe(204)
    await expectRefused(aliceOther.access_token)
    const refresh = await send('POST', '/v1/auth/refresh', undefined, {refresh_token: aliceOther.refresh_token})
    expect({status: refresh.status, code: refresh.json.error.code}).toEqual({status: 401, code: 'auth.invalid_refresh_token'})
    expect((await listSessions(alice.tokens.access_token)).map((session) => session.id)).toEqual([alice.tokens.session_id])
    await expectAccepted(alice.tokens.access_token)
  })

  it('keeps at most 5 sessions: a 6th login revokes the oldest', async () => {
    const {email, tokens: registered} = await register('Limit')
    const logins: Tokens[] = []
    for (let index = 0; index < 6; index++) {
      daemon.testCore.clock.advance(1000)
      logins.push(await login(email))
    }
    const sessions = await listSessions(logins[5]!.access_token)
    expect(sessions).toHaveLength(5)
    expect(sessions.map((session) => session.id)).toEqual(logins.slice(1).map((tokens) => tokens.session_id).reverse())
    // The registration's session went at the 5th login, the first login's at the 6th.
    await expectRefused(registered.access_token)
    await expectRefused(logins[0]!.access_token)
    const refresh = await send('POST', '/v1/auth/refresh', undefined, {refresh_token: logins[0]!.refresh_token})
    expect(refresh.status).toBe(401)
    for (const tokens of logins.slice(1)) await expectAccepted(tokens.access_token)
  })

  it('concurrent logins beyond the limit still leave at most 5 live sessions', async () => {
    const {email} = await register('Burst')
    const logins = await Promise.all(Array.from({length: 8}, () => login(email)))
    const live: Tokens[] = []
    for (const tokens of logins) if ((await send('GET', '/v1/auth/me', tokens.access_token)).status === 200) live.push(tokens)
    expect(live).toHaveLength(5)
    expect((await listSessions(live[0]!.access_token)).map((session) => session.id).sort()).toEqual(live.map((tokens) => tokens.session_id).sort())
  })

  it('logout-all ends every session of the caller and only theirs', async () => {
    const {email, tokens: registered} = await register('All')
    const other = await login(email)
    const bystander = await register('Bystander')

    const response = await send('POST', '/v1/auth/logout-all', other.access_token)
    expect(response.status).toBe(200)
    expect(response.json).toEqual({revoked_sessions: 2})
    await expectRefused(registered.access_token)
    await expectRefused(other.access_token)
    for (const refreshToken of [registered.refresh_token, other.refresh_token]) {
      expect((await send('POST', '/v1/auth/refresh', undefined, {refresh_token: refreshToken})).status).toBe(401)
    }
    await expectAccepted(bystander.tokens.access_token)
    // Logging in again works.
    await expectAccepted((await login(email)).access_token)
  })

  it('change-password: a wrong current password is 401; the old tokens end, the new ones work', async () => {
    const {email, tokens: registered} = await register('Password')
    const other = await login(email)

    const wrong = await send('POST', '/v1/auth/change-password', registered.access_token, {current_password: 'not it at all', new_password: NEW_PASSWORD})
    expect({status: wrong.status, code: wrong.json.error.code}).toEqual({status: 401, code: 'auth.invalid_credentials'})
    await expectAccepted(registered.access_token)

    daemon.testCore.clock.advance(5000)
    const changed = await send('POST', '/v1/auth/change-password', registered.access_token, {current_password: PASSWORD, new_password: NEW_PASSWORD})
    expect(changed.status).toBe(200)
    expect(changed.json.token_type).toBe('Bearer')
    expect(changed.json.session_id).not.toBe(registered.session_id)

    await expectRefused(registered.access_token)
    await expectRefused(other.access_token)
    for (const refreshToken of [registered.refresh_token, other.refresh_token]) {
      expect((await send('POST', '/v1/auth/refresh', undefined, {refresh_token: refreshToken})).status).toBe(401)
    }
    await expectAccepted(changed.json.access_token)
    const refreshed = await send('POST', '/v1/auth/refresh', undefined, {refresh_token: changed.json.refresh_token})
    expect(refreshed.status).toBe(200)
    await expectAccepted(refreshed.json.access_token)
    expect((await listSessions(changed.json.access_token)).map((session) => session.id)).toEqual([changed.json.session_id])

    const oldPassword = await send('POST', '/v1/auth/login', undefined, {email, password: PASSWORD})
    expect({status: oldPassword.status, code: oldPassword.json.error.code}).toEqual({status: 401, code: 'auth.invalid_credentials'})
    await expectAccepted((await login(email, 'after-change', NEW_PASSWORD)).access_token)
  })

  it('change-password keeps the caller’s organization binding on the new tokens', async () => {
    const {tokens: registered} = await register('Binding')
    const changed = await send('POST', '/v1/auth/change-password', registered.access_token, {current_password: PASSWORD, new_password: NEW_PASSWORD})
    expect(changed.status).toBe(200)
    const me = await send('GET', '/v1/auth/me', changed.json.access_token)
    expect(me.status).toBe(200)
    expect(me.json.role).toBe('owner')
    expect(me.json.active_org_id).toBe(me.json.memberships[0].org_id)
  })

  it('every session route refuses a caller without a token', async () => {
    for (const [method, path] of [
      ['GET', '/v1/auth/sessions'],
      ['DELETE', '/v1/auth/sessions/abc'],
      ['POST', '/v1/auth/logout'],
      ['POST', '/v1/auth/logout-all'],
      ['POST', '/v1/auth/change-password'],
    ] as const) {
      const response = await send(method, path)
      expect({path, status: response.status, code: response.json.error.code}).toEqual({path, status: 401, code: 'auth.invalid_token'})
    }
  })
})
