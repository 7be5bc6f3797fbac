import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {INVALID_TOKEN_MESSAGE} from '../../daemon/http-errors.js'
import {createAccessTokenIssuer} from '../../src/security/access-tokens.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// Issue 7, item 5 (and the HTTP side of item 4): one answer for every refused bearer, the
// reason only in the log and the metrics; token answers never cached; /metrics behind a
// bearer when metrics_token is set. (Names: display-names.test.ts.)

const PASSWORD = 'correct horse battery staple'
const METRICS_TOKEN = 'metrics-token-for-tests-0123456789'

describeEachDialect('token hygiene', (dialect) => {
  let daemon: TestDaemon
  let counter = 0

  const send = (method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) =>
    request(`${daemon.url}${path}`, {
      method,
      headers: {...(body === undefined ? {} : {'content-type': 'application/json'}), ...(token ? {authorization: `Bearer ${token}`} : {}), ...headers},
      body: body === undefined ? undefined : JSON.stringify(body),
    })

  async function register(extra: Record<string, unknown> = {}) {
    const email = `hygiene-${++counter}-${dialect}@example.com`
    const response = await send('POST', '/v1/auth/register', undefined, {email, password: PASSWORD, ...extra})
    return {response, email}
  }

  async function session() {
    const {response, email} = await register()
    expect(response.status, response.text).toBe(201)
    return {email, accessToken: response.json.access_token as string, refreshToken: response.json.refresh_token as string, orgId: response.json.org.id as string, orgSlug: response.json.org.slug as string}
  }

  /** saasctl_token_rejections_total by reason, as /metrics shows it. */
  async function rejectionCounts(): Promise<Record<string, number>> {
    const response = await send('GET', '/metrics', METRICS_TOKEN)
    expect(response.status).toBe(200)
    const counts: Record<string, number> = {}
    for (const match of response.text.matchAll(/^saasctl_token_rejections_total\{reason="([a-z_]+)"\} (\d+)$/gm)) counts[match[1]!] = Number(match[2])
    return counts
  }

  function loggedReason(response: {json: any}): unknown {
    const lines = daemon.logs().filter((line) => line.msg === 'bearer token refused' && line.request_id === response.json.request_id)
    expect(lines).toHaveLength(1)
    return lines[0]!.reason
  }

  beforeAll(async () => {
    daemon = await startTestDaemon(dialect, {settings: {metricsToken: METRICS_TOKEN}})
  })
  afterAll(async () => {
    await daemon?.close()
  })

  describe('every refused bearer', () => {
    it('answers the one 401 (auth.invalid_token, one message, details null); the reason goes to the log and to saasctl_token_rejections_total', async () => {
      const {accessToken} = await session()
      const loggedOut = await session()
      expect((await send('POST', '/v1/auth/logout', loggedOut.accessToken)).status).toBe(204)
      const {core} = daemon.testCore
      const longLived = createAccessTokenIssuer({issuer: core.issuer, audience: core.config.audience, lifetimeSeconds: core.config.accessTokenTtlSeconds + 1, clock: core.clock, keyProvider: core.keyProvider})
      const tooLong = (await longLived.issue({userId: 'user-1', sessionId: 'session-1'})).token
      const cases: {name: string; reason: string; path?: string; headers: Record<string, string>}[] = [
        {name: 'no Authorization header', reason: 'missing', headers: {}},
        {name: 'a Basic credential', reason: 'malformed', headers: {authorization: 'Basic dXNlcjpwYXNz'}},
        {name: 'garbage', reason: 'malformed', headers: {authorization: 'Bearer not-a-jwt'}},
        {name: 'a tampered signature', reason: 'bad_signature', headers: {authorization: `Bearer ${accessToken.slice(0, -4)}AAAA`}},
        {name: 'a token living longer than access_token_ttl_seconds, signed with the daemon’s key', reason: 'lifetime_exceeded', headers: {authorization: `Bearer ${tooLong}`}},
        {name: 'the token of a logged-out session', reason: 'session_revoked', headers: {authorization: `Bearer ${loggedOut.accessToken}`}},
        {name: 'an unknown API key', reason: 'invalid', path: '/v1/orgs/x/api-keys', headers: {authorization: `Bearer sk_${'A'.repeat(43)}`}},
        {name: 'a wrong metrics token', reason: 'wrong_metrics_token', path: '/metrics', headers: {authorization: `Bearer ${METRICS_TOKEN}x`}},
      ]
      const before = await rejectionCounts()
      const expected: Record<string, number> = {...before}
      for (const refused of cases) {
        const response = await request(`${daemon.url}${refused.path ?? '/v1/auth/me'}`, {headers: refused.headers})
        expect({case: refused.name, status: response.status, error: response.json?.error}).toEqual({case: refused.name, status: 401, error: {code: 'auth.invalid_token', message: INVALID_TOKEN_MESSAGE, details: null}})
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /)
        expect({case: refused.name, reason: loggedReason(response)}).toEqual({case: refused.name, reason: refused.reason})
        expected[refused.reason] = (expected[refused.reason] ?? 0) + 1
      }
      expect(await rejectionCounts()).toEqual(expected)
      // The token never reaches the log.
      expect(daemon.rawLogs()).not.toContain(tooLong)
      expect(daemon.rawLogs()).not.toContain(loggedOut.accessToken)
    })

    it('accepts a token of exactly the configured lifetime signed the same way (the control)', async () => {
      const {core} = daemon.testCore
      const {userId, accessToken} = await (async () => {
        const {accessToken: token} = await session()
        return {userId: (await send('GET', '/v1/auth/me', token)).json.user.id as string, accessToken: token}
      })()
      const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8'))
      const sameLifetime = createAccessTokenIssuer({issuer: core.issuer, audience: core.config.audience, lifetimeSeconds: core.config.accessTokenTtlSeconds, clock: core.clock, keyProvider: core.keyProvider})
      const {token} = await sameLifetime.issue({userId, sessionId: claims.sid, orgId: claims.org, role: claims.role})
      expect((await send('GET', '/v1/auth/me', token)).status).toBe(200)
    })

    it('introspection still answers active: false for a refused token', async () => {
      daemon.testCore.core.config.introspectionSecret = 'introspection-secret-for-tests-0123456789'
      const response = await send('POST', '/v1/tokens/introspect', 'introspection-secret-for-tests-0123456789', {token: 'not-a-jwt'})
      expect([response.status, response.json]).toEqual([200, {active: false}])
    })
  })

  describe('token answers carry Cache-Control: no-store and Pragma: no-cache', () => {
    const expectNoStore = (response: {status: number; headers: Headers; text: string}, status: number) => {
      expect(response.status, response.text).toBe(status)
      expect({cacheControl: response.headers.get('cache-control'), pragma: response.headers.get('pragma')}).toEqual({cacheControl: 'no-store', pragma: 'no-cache'})
    }

    it('register, login, refresh, switch-org, change-password and API-key create', async () => {
      const {response: registered, email} = await register()
      expectNoStore(registered, 201)
      const login = await send('POST', '/v1/auth/login', undefined, {email, password: PASSWORD})
      expectNoStore(login, 200)
      const refreshed = await send('POST', '/v1/auth/refresh', undefined, {refresh_token: registered.json.refresh_token})
      expectNoStore(refreshed, 200)
      const switched = await send('POST', '/v1/auth/switch-org', login.json.access_token, {org: registered.json.org.slug})
      expectNoStore(switched, 200)
      const key = await send('POST', `/v1/orgs/${registered.json.org.id}/api-keys`, switched.json.access_token, {name: 'deploy', permissions: ['org.read']})
      expectNoStore(key, 201)
      const changed = await send('POST', '/v1/auth/change-password', switched.json.access_token, {current_password: PASSWORD, new_password: `${PASSWORD} 2`})
      expectNoStore(changed, 200)
    })
  })

  describe('GET /metrics with metrics_token set', () => {
    it('refuses no bearer, a wrong one and a near miss with 401 auth.invalid_token; answers the right one', async () => {
      for (const headers of [{}, {authorization: 'Bearer wrong-token-wrong-token-0000'}, {authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}`}, {authorization: `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString('base64')}`}]) {
        const response = await request(`${daemon.url}/metrics`, {headers})
        expect([response.status, response.json?.error?.code, response.json?.error?.details]).toEqual([401, 'auth.invalid_token', null])
        expect(response.text).not.toContain('saasctl_')
      }
      const allowed = await send('GET', '/metrics', METRICS_TOKEN)
      expect(allowed.status).toBe(200)
      expect(allowed.text).toContain('saasctl_http_requests_total')
    })
  })
})
