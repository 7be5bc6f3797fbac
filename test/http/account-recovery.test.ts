import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startRevocationFollower} from '../../src/identity/revocation-follower.js'
import {latestMail, queuedMails, tokenFromMail} from '../helpers/outbox-mail.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// Email verification, password reset, email change, the registration policy and the password
// policy over real HTTP. Mails are read from the outbox (the links they carry are followed as
// the product's pages would: by posting their token). Every request comes from 127.0.0.1, so
// the per-IP budgets are shared within the file; the tests that spend them move the clock on.

const PASSWORD = 'correct horse battery staple'
const NEW_PASSWORD = 'a brand new passphrase'
const INTROSPECTION_SECRET = 'introspection-secret-for-tests-0123456789'

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))
}

async function startDaemonWithFollower(dialect: Parameters<typeof startTestDaemon>[0], settings: Parameters<typeof startTestDaemon>[1] = {}): Promise<TestDaemon> {
  const daemon = await startTestDaemon(dialect, settings)
  const {core} = daemon.testCore
  const follower = await startRevocationFollower({db: core.database.db, cache: core.revocations, clock: core.clock, pollMilliseconds: 100})
  const unsubscribe = core.revocationSignal.subscribe(() => follower.syncNow())
  daemon.running.addShutdownHook({name: 'revocation signal', stop: () => void unsubscribe()})
  daemon.running.addShutdownHook({name: 'revocation follower', stop: () => follower.stop()})
  return daemon
}

describeEachDialect('verification, reset and email change over HTTP', (dialect) => {
  let daemon: TestDaemon
  let emailCounter = 0
  const nextEmail = (label: string) => `${label}-${++emailCounter}-${dialect}@example.com`
  const core = () => daemon.testCore.core
  const clock = () => daemon.testCore.clock

  const post = (path: string, body?: unknown, token?: string) =>
    request(`${daemon.url}${path}`, {
      method: 'POST',
      headers: {'content-type': 'application/json', ...(token ? {authorization: `Bearer ${token}`} : {})},
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  const get = (path: string, token?: string) => request(`${daemon.url}${path}`, {headers: token ? {authorization: `Bearer ${token}`} : {}})

  async function register(label: string) {
    const email = nextEmail(label)
    const response = await post('/v1/auth/register', {email, password: PASSWORD})
    expect(response.status).toBe(201)
    return {email, userId: response.json.user.id as string, accessToken: response.json.access_token as string, refreshToken: response.json.refresh_token as string}
  }

  beforeAll(async () => {
    daemon = await startDaemonWithFollower(dialect, {settings: {introspectionSecret: INTROSPECTION_SECRET}})
    daemon.testCore.core.config.introspectionSecret = INTROSPECTION_SECRET
  })
  afterAll(async () => daemon?.close())

  it('register mails a working link; verify-email flips email_verified in me, in a fresh access token and in introspection', async () => {
    const account = await register('verify')
    expect(claimsOf(account.accessToken).email_verified).toBe(false)
    expect((await get('/v1/auth/me', account.accessToken)).json.email_verified).toBe(false)

    const mail = await latestMail(core(), account.email, 'verify_email')
    expect(mail.subject).toMatch(/confirm/i)
    const link = new URL(mail.links[0]!)
    expect(`${link.origin}${link.pathname}`).toBe(`${core().publicUrl}/verify-email`)
    expect(mail.html).toContain(link.searchParams.get('token'))

    const verified = await post('/v1/auth/verify-email', {token: tokenFromMail(mail)})
    expect(verified.status).toBe(200)
    expect(verified.json).toEqual({email: account.email, email_verified: true})

    const me = await get('/v1/auth/me', account.accessToken)
    expect(me.json.email_verified).toBe(true)
    expect(me.json.user.email_verified_at).toEqual(expect.any(String))
    const refreshed = await post('/v1/auth/refresh', {refresh_token: account.refreshToken})
    expect(refreshed.status).toBe(200)
    expect(claimsOf(refreshed.json.access_token).email_verified).toBe(true)
    const introspected = await request(`${daemon.url}/v1/tokens/introspect`, {
      method: 'POST',
      headers: {'content-type': 'application/json', authorization: `Bearer ${INTROSPECTION_SECRET}`},
      body: JSON.stringify({token: refreshed.json.access_token}),
    })
    expect(introspected.json).toMatchObject({active: true, email_verified: true})

    // The link works once.
    const again = await post('/v1/auth/verify-email', {token: tokenFromMail(mail)})
    expect({status: again.status, code: again.json.error.code}).toEqual({status: 422, code: 'auth.invalid_link_token'})
  })

  it('resend: 202 and a new mail, then 429 with Retry-After within the minute; 409 once verified', async () => {
    const account = await register('resend')
    const sent = await post('/v1/auth/verify-email/resend', undefined, account.accessToken)
    expect(sent.status).toBe(202)
    expect(sent.json).toEqual({email: account.email})
    expect(await queuedMails(core(), {to: account.email, kind: 'verify_email'})).toHaveLength(2)
    const throttled = await post('/v1/auth/verify-email/resend', undefined, account.accessToken)
    expect({status: throttled.status, code: throttled.json.error.code}).toEqual({status: 429, code: 'auth.too_many_attempts'})
    expect(throttled.headers.get('retry-after')).toBe('60')
    expect(await queuedMails(core(), {to: account.email, kind: 'verify_email'})).toHaveLength(2)

    await post('/v1/auth/verify-email', {token: tokenFromMail(await latestMail(core(), account.email, 'verify_email'))})
    clock().advance(61_000)
    const already = await post('/v1/auth/verify-email/resend', undefined, account.accessToken)
    expect({status: already.status, code: already.json.error.code}).toEqual({status: 409, code: 'email.already_verified'})
    expect((await post('/v1/auth/verify-email/resend')).status).toBe(401)
  })

  it('forgot: a known and an unknown address get the same status and body; only the known one is mailed', async () => {
    const account = await register('forgot')
    const unknown = nextEmail('nobody')
    const known = await post('/v1/auth/password/forgot', {email: account.email})
    const stranger = await post('/v1/auth/password/forgot', {email: unknown})
    expect(known.status).toBe(202)
    expect(stranger.status).toBe(202)
    expect(stranger.text).toBe(known.text)
    expect([...stranger.headers.keys()].sort()).toEqual([...known.headers.keys()].sort())
    expect(await queuedMails(core(), {to: account.email, kind: 'password_reset'})).toHaveLength(1)
    expect(await queuedMails(core(), {to: unknown})).toHaveLength(0)
    const malformed = await post('/v1/auth/password/forgot', {email: 'not an address'})
    expect({status: malformed.status, code: malformed.json.error.code}).toEqual({status: 422, code: 'validation.failed'})
  })

  it('reset: 204 once; every session ends (old refresh and access tokens refused); only the new password logs in', async () => {
    const account = await register('reset')
    const secondLogin = await post('/v1/auth/login', {email: account.email, password: PASSWORD})
    expect(secondLogin.status).toBe(200)
    await post('/v1/auth/password/forgot', {email: account.email})
    const token = tokenFromMail(await latestMail(core(), account.email, 'password_reset'))
    expect((await latestMail(core(), account.email, 'password_reset')).links[0]).toMatch(new RegExp(`^${core().publicUrl}/reset-password\\?token=`))
    clock().advance(1000)

    const weak = await post('/v1/auth/password/reset', {token, password: 'password123'})
    expect({status: weak.status, code: weak.json.error.code, rule: weak.json.error.details.rule}).toEqual({status: 422, code: 'password.too_weak', rule: 'too_common'})
    expect(weak.text).not.toContain('password123')

    const reset = await post('/v1/auth/password/reset', {token, password: NEW_PASSWORD})
    expect(reset.status).toBe(204)

    const oldAccess = await get('/v1/auth/me', account.accessToken)
    expect({status: oldAccess.status, code: oldAccess.json.error.code}).toEqual({status: 401, code: 'auth.invalid_token'})
    expect((await get('/v1/auth/me', secondLogin.json.access_token)).status).toBe(401)
    const oldRefresh = await post('/v1/auth/refresh', {refresh_token: account.refreshToken})
    expect({status: oldRefresh.status, code: oldRefresh.json.error.code}).toEqual({status: 401, code: 'auth.invalid_refresh_token'})
    expect((await post('/v1/auth/refresh', {refresh_token: secondLogin.json.refresh_token})).status).toBe(401)

    const withOld = await post('/v1/auth/login', {email: account.email, password: PASSWORD})
    expect({status: withOld.status, code: withOld.json.error.code}).toEqual({status: 401, code: 'auth.invalid_credentials'})
    clock().advance(1000)
    const withNew = await post('/v1/auth/login', {email: account.email, password: NEW_PASSWORD})
    expect(withNew.status).toBe(200)
    expect((await get('/v1/auth/me', withNew.json.access_token)).status).toBe(200)

    const reused = await post('/v1/auth/password/reset', {token, password: 'yet another passphrase'})
    expect({status: reused.status, code: reused.json.error.code}).toEqual({status: 422, code: 'auth.invalid_link_token'})
  })

  it('email change: needs the password, clears email_verified, mails the new address and notifies the old', async () => {
    const account = await register('change')
    await post('/v1/auth/verify-email', {token: tokenFromMail(await latestMail(core(), account.email, 'verify_email'))})
    const newEmail = nextEmail('changed')
    const wrong = await post('/v1/auth/email', {email: newEmail, password: 'not the password'}, account.accessToken)
    expect({status: wrong.status, code: wrong.json.error.code}).toEqual({status: 401, code: 'auth.invalid_credentials'})

    const changed = await post('/v1/auth/email', {email: newEmail, password: PASSWORD}, account.accessToken)
    expect(changed.status).toBe(200)
    expect(changed.json.user).toMatchObject({email: newEmail, email_verified_at: null})
    expect((await get('/v1/auth/me', account.accessToken)).json).toMatchObject({email_verified: false, user: {email: newEmail}})
    expect(await latestMail(core(), account.email, 'email_changed')).toBeTruthy()
    const verified = await post('/v1/auth/verify-email', {token: tokenFromMail(await latestMail(core(), newEmail, 'verify_email'))})
    expect(verified.json).toEqual({email: newEmail, email_verified: true})
  })

  it('register holds the password to the policy: 422 password.too_weak naming the rule, never echoing it', async () => {
    const email = nextEmail('weak')
    for (const [password, rule] of [['password123', 'too_common'], [email, 'equals_email'], ['Zq7$kP2', 'too_short'], ['🔑'.repeat(257), 'too_long']] as const) {
      const response = await post('/v1/auth/register', {email, password})
      expect({status: response.status, code: response.json.error.code, rule: response.json.error.details.rule}).toEqual({status: 422, code: 'password.too_weak', rule})
      expect(response.text).not.toContain(password)
    }
    expect((await post('/v1/auth/register', {email, password: '🔑'.repeat(8)})).status).toBe(201)
  })

  // Last: it spends the IP's budget of wrong link tokens.
  it('wrong tokens: 422 auth.invalid_link_token, then 429 auth.too_many_attempts with Retry-After for every token kind of the IP', async () => {
    clock().advance(61_000)
    const account = await register('budget')
    const token = tokenFromMail(await latestMail(core(), account.email, 'verify_email'))
    for (let attempt = 0; attempt < core().config.failedAttemptsPerMinute; attempt++) {
      const wrong = await post('/v1/auth/verify-email', {token: `wrong-${attempt}`})
      expect({status: wrong.status, code: wrong.json.error.code, details: wrong.json.error.details}).toEqual({status: 422, code: 'auth.invalid_link_token', details: null})
    }
    const refused = await post('/v1/auth/verify-email', {token})
    expect({status: refused.status, code: refused.json.error.code}).toEqual({status: 429, code: 'auth.too_many_attempts'})
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    clock().advance(61_000)
    expect((await post('/v1/auth/verify-email', {token})).status).toBe(200)

    for (let attempt = 0; attempt < core().config.failedAttemptsPerMinute; attempt++) {
      expect((await post('/v1/auth/password/reset', {token: `wrong-${attempt}`, password: NEW_PASSWORD})).status).toBe(422)
    }
    const resetRefused = await post('/v1/auth/password/reset', {token: 'wrong', password: NEW_PASSWORD})
    expect({status: resetRefused.status, code: resetRefused.json.error.code}).toEqual({status: 429, code: 'auth.too_many_attempts'})
    expect(resetRefused.headers.get('retry-after')).toBe('60')
  })
})

describeEachDialect('registration policy over HTTP', (dialect) => {
  describe.each(['closed', 'invite_only'] as const)('registration %s', (registration) => {
    let daemon: TestDaemon
    beforeAll(async () => {
      daemon = await startTestDaemon(dialect, {settings: {registration}})
    })
    afterAll(async () => daemon?.close())

    it('answers POST /v1/auth/register with 403 registration.closed', async () => {
      const response = await request(`${daemon.url}/v1/auth/register`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({email: `closed-${dialect}@example.com`, password: PASSWORD})})
      expect({status: response.status, code: response.json.error.code}).toEqual({status: 403, code: 'registration.closed'})
      expect(await daemon.testCore.core.users.listUsers({principal: {kind: 'operator', name: 'test'}, origin: {}})).toEqual([])
    })
  })
})
