import {afterEach, expect, it} from 'vitest'
import {userActor} from '../../src/access/principal.js'
import type {SettingName} from '../../src/config/settings.js'
import {createCore} from '../../src/core.js'
import type {DialectName} from '../../src/db/database-url.js'
import {createLogger} from '../../daemon/logger.js'
import type {RunningServer} from '../../daemon/server.js'
import {startDaemon} from '../../daemon/start-daemon.js'
import {hashIdentifier} from '../../src/security/attempt-log.js'
import {queuedMails} from '../helpers/outbox-mail.js'
import {totpCode} from '../helpers/rfc6238.js'
import {FAST_PASSWORD_HASHER, OPERATOR, testConfig} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// The brute-force defence and the 2FA login step over HTTP (issue 7): 429 with Retry-After,
// unknown emails answered like known ones, locks shared by daemons on one database, the
// client IP from X-Forwarded-For only with trust_proxy, and POST /v1/auth/login/2fa.

const PASSWORD = 'correct horse battery staple'
const MINUTE = 60_000
let counter = 0
const uniqueEmail = (prefix: string) => `${prefix}-${++counter}@example.com`

describeEachDialect('login defence over HTTP', (dialect: DialectName) => {
  let daemon: TestDaemon | undefined
  const others: RunningServer[] = []
  afterEach(async () => {
    for (const other of others.splice(0)) await other.close()
    await daemon?.close()
    daemon = undefined
  })

  async function start(settings: Partial<Record<SettingName, unknown>> = {}): Promise<TestDaemon> {
    daemon = await startTestDaemon(dialect, {settings})
    return daemon
  }
  const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
    request(`${base}${path}`, {method: 'POST', headers: {'content-type': 'application/json', ...headers}, body: JSON.stringify(body)})
  const login = (base: string, email: string, password: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
    post(base, '/v1/auth/login', {email, password, ...extra}, headers)
  const createUser = async (d: TestDaemon, prefix: string) => (await d.testCore.core.users.createUser(OPERATOR, {email: uniqueEmail(prefix), password: PASSWORD})).user
  /** What a refusal shows a client: status, Retry-After, and the body without its request id. */
  const visible = (reply: Awaited<ReturnType<typeof request>>) => ({status: reply.status, retryAfter: reply.headers.get('retry-after'), error: reply.json?.error})

  it('answers the 6th attempt in a minute 429 auth.too_many_attempts with Retry-After, the right password too; a known and an unknown email alike', async () => {
    const d = await start()
    const user = await createUser(d, 'http-budget')
    const unknown = uniqueEmail('http-nobody')
    const known: unknown[] = []
    const nobody: unknown[] = []
    for (let attempt = 0; attempt < 5; attempt += 1) {
      known.push(visible(await login(d.url, user.email, 'wrong')))
      nobody.push(visible(await login(d.url, unknown, 'wrong')))
    }
    expect(nobody).toEqual(known)
    expect(known[0]).toMatchObject({status: 401, retryAfter: null, error: {code: 'auth.invalid_credentials'}})
    const throttled = await login(d.url, user.email, PASSWORD)
    expect(visible(throttled)).toEqual({status: 429, retryAfter: '60', error: {code: 'auth.too_many_attempts', message: expect.any(String), details: {retry_after_seconds: 60}}})
    expect(visible(await login(d.url, unknown, PASSWORD))).toEqual(visible(throttled))
    d.testCore.clock.advance(MINUTE + 1)
    const allowed = await login(d.url, user.email, PASSWORD)
    expect(allowed.status).toBe(200)
    expect(allowed.headers.get('cache-control')).toBe('no-store')
    const metrics = await (await fetch(`${d.url}/metrics`)).text()
    expect(metrics).toMatch(/saasctl_login_total\{outcome="throttled"\} 2/)
  })

  it('a lock made through one daemon holds on another on the same database; user unlock lifts it for both', async () => {
    const d = await start({lockoutThreshold: 3})
    const config = testConfig(d.testCore.database.url, {host: '127.0.0.1', port: 0, lockoutThreshold: 3})
    const core = await createCore({config, cwd: process.cwd(), clock: d.testCore.clock, passwords: FAST_PASSWORD_HASHER})
    const other = await startDaemon(core, config, {logger: createLogger({level: 'silent'}), cleanupJobs: false, mailDelivery: false, checkResponses: true})
    others.push(other)
    const user = await createUser(d, 'two-daemons')
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await login(attempt % 2 === 0 ? d.url : other.url, user.email, 'wrong')).status).toBe(401)
    for (const base of [d.url, other.url]) {
      const locked = await login(base, user.email, PASSWORD)
      expect(locked.status).toBe(429)
      expect(Number(locked.headers.get('retry-after'))).toBe(900)
    }
    expect(await queuedMails(d.testCore.core, {to: user.email, kind: 'account_locked'})).toHaveLength(1)
    await core.loginGuard.unlockUser(OPERATOR, {user: user.email})
    expect((await login(d.url, user.email, PASSWORD)).status).toBe(200)
    expect((await login(other.url, user.email, PASSWORD)).status).toBe(200)
  })

  it('without trust_proxy, ignores X-Forwarded-For: the socket address is counted, recorded and audited', async () => {
    const d = await start()
    const user = await createUser(d, 'no-proxy')
    for (let attempt = 0; attempt < 5; attempt += 1) await login(d.url, user.email, 'wrong', {'x-forwarded-for': `203.0.113.${attempt + 1}`})
    // A new X-Forwarded-For does not buy a new budget.
    expect((await login(d.url, user.email, PASSWORD, {'x-forwarded-for': '203.0.113.77'})).status).toBe(429)
    const ips = await d.testCore.core.database.db.selectFrom('auth_attempt').select('ip').distinct().execute()
    expect(ips.map((row) => row.ip)).toEqual([expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/)])
  })

  it('with trust_proxy (loopback), takes the client IP from X-Forwarded-For for attempts, budgets, sessions and audit', async () => {
    const d = await start({trustProxy: 'loopback'})
    const user = await createUser(d, 'proxied')
    for (let attempt = 0; attempt < 5; attempt += 1) expect((await login(d.url, user.email, 'wrong', {'x-forwarded-for': '203.0.113.9'})).status).toBe(401)
    expect((await login(d.url, user.email, PASSWORD, {'x-forwarded-for': '203.0.113.9'})).status).toBe(429)
    // Another client behind the same proxy has its own budget; the proxy chain's first hop is the client.
    const other = await login(d.url, user.email, PASSWORD, {'x-forwarded-for': '198.51.100.20, 127.0.0.1'})
    expect(other.status).toBe(200)
    const attempts = await d.testCore.core.database.db.selectFrom('auth_attempt').select(['ip', 'outcome']).where('identifier_hash', '=', hashIdentifier(user.email)).orderBy('created_at').orderBy('id').execute()
    expect(attempts.at(0)).toEqual({ip: '203.0.113.9', outcome: 'failure'})
    expect(attempts.at(-1)).toEqual({ip: '198.51.100.20', outcome: 'success'})
    const sessions = await d.testCore.core.sessions.listSessions(OPERATOR, {user: user.id})
    expect(sessions.map((session) => session.ip)).toEqual(['198.51.100.20'])
    const [failed] = await d.testCore.core.audit.listEventsAfter({afterSeq: 0, action: 'security.login_failed'})
    expect(failed?.ip).toBe('203.0.113.9')
  })

  it('completes a 2FA login through POST /v1/auth/login/2fa', async () => {
    const d = await start()
    const {core, clock} = d.testCore
    const user = await createUser(d, 'http-2fa')
    const actor = userActor({userId: user.id, sessionId: 'setup', orgId: null}, {})
    const {secret} = await core.mfa.setup(actor)
    const {recoveryCodes} = await core.mfa.enable(actor, {password: PASSWORD, code: totpCode(secret, clock.now())})
    clock.advance(30_000)

    const step = await login(d.url, user.email, PASSWORD)
    expect(step.status).toBe(200)
    expect(step.json).toEqual({mfa_required: true, mfa_token: expect.any(String), expires_in: 300})
    expect(step.headers.get('cache-control')).toBe('no-store')
    const mfaToken: string = step.json.mfa_token

    expect(visible(await post(d.url, '/v1/auth/login/2fa', {mfa_token: mfaToken, code: 'abcdef'}))).toMatchObject({status: 401, error: {code: 'auth.invalid_mfa_code'}})
    expect((await post(d.url, '/v1/auth/login/2fa', {mfa_token: mfaToken, code: '123456', recovery_code: recoveryCodes[0]})).json.error.code).toBe('validation.failed')
    expect((await post(d.url, '/v1/auth/login/2fa', {mfa_token: 'nope', code: '123456'})).json.error.code).toBe('auth.invalid_mfa_token')
    const done = await post(d.url, '/v1/auth/login/2fa', {mfa_token: mfaToken, code: totpCode(secret, clock.now())})
    expect(done.status).toBe(200)
    expect(done.json).toEqual({access_token: expect.any(String), token_type: 'Bearer', expires_in: 900, refresh_token: expect.any(String), session_id: expect.any(String)})
    expect(done.headers.get('cache-control')).toBe('no-store')
    expect((await request(`${d.url}/v1/auth/me`, {headers: {authorization: `Bearer ${done.json.access_token}`}})).status).toBe(200)
    expect((await post(d.url, '/v1/auth/login/2fa', {mfa_token: mfaToken, code: totpCode(secret, clock.now())})).json.error.code).toBe('auth.invalid_mfa_token')
    // A recovery code completes another login, once.
    const again = await login(d.url, user.email, PASSWORD)
    expect((await post(d.url, '/v1/auth/login/2fa', {mfa_token: again.json.mfa_token, recovery_code: recoveryCodes[0]})).status).toBe(200)

    const metrics = await (await fetch(`${d.url}/metrics`)).text()
    expect(metrics).toMatch(/saasctl_login_total\{outcome="mfa_required"\} 2/)
    expect(metrics).toMatch(/saasctl_login_total\{outcome="invalid_mfa_code"\} 1/)
    const openapi = (await request(`${d.url}/openapi.json`)).json
    expect(openapi.paths['/v1/auth/login/2fa'].post).toBeDefined()
    expect(JSON.stringify(openapi.paths['/v1/auth/login'].post.responses['200'])).toContain('mfa_token')
  })

  it('refuses a login into, and a switch-org into, an organization that requires 2FA by a user without it (403 auth.mfa_enrollment_required)', async () => {
    const d = await start()
    const {core} = d.testCore
    const user = await createUser(d, 'strict-member')
    const {org: strict} = await core.orgs.createOrg(OPERATOR, {name: 'Strict HTTP', slug: `strict-http-${counter}`, owner: user.id})
    await core.database.db.updateTable('organization').set({require_2fa: 1}).where('id', '=', strict.id).execute()
    expect(visible(await login(d.url, user.email, 'wrong', {}, {org: strict.slug}))).toMatchObject({status: 401, error: {code: 'auth.invalid_credentials'}})
    expect(visible(await login(d.url, user.email, PASSWORD, {}, {org: strict.slug}))).toMatchObject({status: 403, error: {code: 'auth.mfa_enrollment_required'}})
    expect(visible(await login(d.url, user.email, PASSWORD, {'x-tenant-slug': strict.slug}))).toMatchObject({status: 403, error: {code: 'auth.mfa_enrollment_required'}})
    const unbound = await login(d.url, user.email, PASSWORD)
    expect(unbound.status).toBe(200)
    const switched = await post(d.url, '/v1/auth/switch-org', {org: strict.slug}, {authorization: `Bearer ${unbound.json.access_token}`})
    expect(visible(switched)).toMatchObject({status: 403, error: {code: 'auth.mfa_enrollment_required'}})
  })
})
