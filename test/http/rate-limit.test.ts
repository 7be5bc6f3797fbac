import {afterAll, beforeAll, expect, it} from 'vitest'
import {OPERATOR} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// Request budgets over HTTP: an org's bucket shared by its API keys and its members' tokens,
// per-IP buckets of the anonymous groups, the 429 and the RateLimit-* headers. Each test speaks
// from its own client addresses (X-Forwarded-For through a trusted loopback proxy); the test
// clock stands still unless moved, so buckets refill only when a test says.

const PASSWORD = 'correct horse battery staple'
const FREE_RPM = 5
const AUTH_RPM = 3
const PUBLIC_RPM = 4

describeEachDialect('rate limits over HTTP', (dialect) => {
  let daemon: TestDaemon
  let counter = 0
  const unique = (label: string) => `${label}-${++counter}-${dialect}`
  // A fresh client address for each use that must not share a bucket with another.
  const newIp = () => `198.51.100.${++counter % 250}`

  beforeAll(async () => {
    daemon = await startTestDaemon(dialect, {
      settings: {tierRpm: `free=${FREE_RPM},basic=unlimited,premium=unlimited,enterprise=unlimited`, rateLimitAuthRpm: AUTH_RPM, rateLimitPublicRpm: PUBLIC_RPM, trustProxy: 'loopback'},
    })
  })
  afterAll(async () => {
    await daemon?.close()
  })

  const send = (method: string, path: string, options: {token?: string; ip?: string; body?: string; contentType?: string} = {}) =>
    request(`${daemon.url}${path}`, {
      method,
      headers: {
        'x-forwarded-for': options.ip ?? newIp(),
        ...(options.token ? {authorization: `Bearer ${options.token}`} : {}),
        ...(options.body !== undefined ? {'content-type': options.contentType ?? 'application/json'} : {}),
      },
      body: options.body,
    })

  const rateLimitHeaders = (response: {headers: Headers}) => ({
    limit: response.headers.get('ratelimit-limit'),
    remaining: response.headers.get('ratelimit-remaining'),
    reset: response.headers.get('ratelimit-reset'),
    policy: response.headers.get('ratelimit-policy'),
  })

  /** An org of the tier with an owner, the owner's token bound to it, and an API key of it. */
  async function seedOrg(label: string, tier: 'free' | 'basic' = 'free') {
    const {core} = daemon.testCore
    const email = `${unique(label)}@example.com`
    await core.users.createUser(OPERATOR, {email, password: PASSWORD})
    const slug = unique(label)
    const {org} = await core.orgs.createOrg(OPERATOR, {name: slug, slug, owner: email, tier})
    const login = await send('POST', '/v1/auth/login', {body: JSON.stringify({email, password: PASSWORD, org: slug})})
    expect(login.status, login.text).toBe(200)
    const key = (await core.apiKeys.createApiKey(OPERATOR, {org: slug, name: unique('key'), role: 'owner'})).secret
    return {org, slug, token: login.json.access_token as string, key}
  }

  it('an org draws every request from one bucket: its keys and its members’ tokens alike; past it 429 http.rate_limited with Retry-After, and the request does nothing', async () => {
    const a = await seedOrg('alpha')
    const b = await seedOrg('beta')
    const first = await send('GET', `/v1/orgs/${a.slug}/members`, {token: a.key})
    expect(first.status).toBe(200)
    expect(rateLimitHeaders(first)).toEqual({limit: '5', remaining: '4', reset: '12', policy: '5;w=60'})
    // The member's token (from any address) draws from the same bucket as the key.
    expect(rateLimitHeaders(await send('GET', `/v1/orgs/${a.slug}/members`, {token: a.token})).remaining).toBe('3')
    expect(rateLimitHeaders(await send('GET', '/v1/auth/me', {token: a.token})).remaining).toBe('2')
    expect((await send('GET', `/v1/orgs/${a.slug}/roles`, {token: a.key})).status).toBe(200)
    const last = await send('GET', `/v1/orgs/${a.slug}/members`, {token: a.token})
    expect(last.status).toBe(200)
    expect(rateLimitHeaders(last)).toEqual({limit: '5', remaining: '0', reset: '60', policy: '5;w=60'})

    const refused = await send('POST', `/v1/orgs/${a.slug}/roles`, {token: a.key, body: JSON.stringify({key: 'auditor', name: 'Auditor', permissions: ['members.read']})})
    expect({status: refused.status, code: refused.json.error.code}).toEqual({status: 429, code: 'http.rate_limited'})
    expect(typeof refused.json.request_id).toBe('string')
    expect(refused.headers.get('retry-after')).toBe('12')
    expect(rateLimitHeaders(refused)).toEqual({limit: '5', remaining: '0', reset: '60', policy: '5;w=60'})
    expect((await daemon.testCore.core.roles.listRoles(OPERATOR, {org: a.slug})).map((role) => role.key)).not.toContain('auditor')
    // Refused before the body is read: a malformed body gets the 429, not a 400.
    expect((await send('POST', `/v1/orgs/${a.slug}/roles`, {token: a.key, body: '{"key":'})).status).toBe(429)
    expect((await send('GET', '/v1/auth/me', {token: a.token})).status).toBe(429)

    // Another org is not touched; a platform key (the operator's) draws from no bucket.
    const other = await send('GET', `/v1/orgs/${b.slug}/members`, {token: b.key})
    expect({status: other.status, remaining: rateLimitHeaders(other).remaining}).toEqual({status: 200, remaining: '4'})
    // A caller pays from its own org's bucket, whatever org the path names: nobody spends another tenant's budget.
    expect((await send('GET', `/v1/orgs/${b.slug}/members`, {token: a.token})).status).toBe(429)
    expect(rateLimitHeaders(await send('GET', `/v1/orgs/${b.slug}/members`, {token: b.key})).remaining).toBe('3')
    const platformKey = (await daemon.testCore.core.apiKeys.createPlatformKey(OPERATOR, {name: unique('platform')})).secret
    const asPlatform = await send('GET', `/v1/orgs/${a.slug}/members`, {token: platformKey})
    expect({status: asPlatform.status, limit: asPlatform.headers.get('ratelimit-limit')}).toEqual({status: 200, limit: null})

    // 12 s later one token is back.
    daemon.testCore.clock.advance(12_000)
    expect((await send('GET', `/v1/orgs/${a.slug}/members`, {token: a.key})).status).toBe(200)
    expect((await send('GET', `/v1/orgs/${a.slug}/members`, {token: a.key})).status).toBe(429)
  })

  it('an org’s own rpm_limit overrides its tier’s, within the 10 s its limits are cached', async () => {
    const c = await seedOrg('gamma', 'basic')
    const unlimited = await send('GET', `/v1/orgs/${c.slug}/members`, {token: c.key})
    expect({status: unlimited.status, limit: unlimited.headers.get('ratelimit-limit')}).toEqual({status: 200, limit: null})
    await daemon.testCore.core.database.db.updateTable('organization').set({rpm_limit: 2}).where('id', '=', c.org.id).execute()
    expect((await send('GET', `/v1/orgs/${c.slug}/members`, {token: c.key})).headers.get('ratelimit-limit')).toBeNull()
    daemon.testCore.clock.advance(10_000)
    expect(rateLimitHeaders(await send('GET', `/v1/orgs/${c.slug}/members`, {token: c.key}))).toMatchObject({limit: '2', remaining: '1', policy: '2;w=60'})
    expect((await send('GET', `/v1/orgs/${c.slug}/members`, {token: c.token})).status).toBe(200)
    expect((await send('GET', `/v1/orgs/${c.slug}/members`, {token: c.key})).status).toBe(429)
  })

  it('anonymous sign-in routes draw from the client IP’s auth bucket; other anonymous reads from its public one; /health from none', async () => {
    const ip = newIp()
    const wrongLogin = JSON.stringify({email: `${unique('nobody')}@example.com`, password: 'wrong password here'})
    for (let attempt = 1; attempt <= AUTH_RPM; attempt += 1) {
      const response = await send('POST', '/v1/auth/login', {ip, body: wrongLogin})
      expect({status: response.status, remaining: response.headers.get('ratelimit-remaining')}).toEqual({status: 401, remaining: String(AUTH_RPM - attempt)})
    }
    const refused = await send('POST', '/v1/auth/login', {ip, body: wrongLogin})
    expect({status: refused.status, code: refused.json.error.code, retryAfter: refused.headers.get('retry-after')}).toEqual({status: 429, code: 'http.rate_limited', retryAfter: '20'})
    expect(rateLimitHeaders(refused)).toEqual({limit: '3', remaining: '0', reset: '60', policy: '3;w=60'})
    // The whole group shares the bucket: registration, password reset, the OAuth token endpoint (in OAuth's error form).
    expect((await send('POST', '/v1/auth/register', {ip, body: JSON.stringify({email: `${unique('new')}@example.com`, password: PASSWORD})})).status).toBe(429)
    expect((await send('POST', '/v1/auth/password/forgot', {ip, body: JSON.stringify({email: 'x@example.com'})})).status).toBe(429)
    const oauth = await send('POST', '/v1/oauth/token', {ip, body: 'grant_type=refresh_token&refresh_token=x', contentType: 'application/x-www-form-urlencoded'})
    expect({status: oauth.status, isOAuthForm: typeof oauth.json.error === 'string', retryAfter: oauth.headers.get('retry-after')}).toEqual({status: 429, isOAuthForm: true, retryAfter: '20'})
    // The account pages answer with a page, not the API's JSON.
    const page = await send('POST', '/forgot-password', {ip, body: 'email=someone%40example.com', contentType: 'application/x-www-form-urlencoded'})
    expect({status: page.status, type: page.headers.get('content-type'), retryAfter: page.headers.get('retry-after'), limit: page.headers.get('ratelimit-limit')}).toEqual({
      status: 429,
      type: 'text/html; charset=utf-8',
      retryAfter: '20',
      limit: String(AUTH_RPM),
    })
    expect(page.text).toContain('Too many requests')
    expect(page.json).toBeUndefined()
    // Another address has its own bucket; IPv6 addresses share one per /64.
    expect((await send('POST', '/v1/auth/login', {body: wrongLogin})).status).toBe(401)
    const subnet = `2001:db8:${counter}:1`
    // (Another account: the login guard's lockout counts an account's failures from every address.)
    const otherWrongLogin = JSON.stringify({email: `${unique('nobody')}@example.com`, password: 'wrong password here'})
    for (let attempt = 1; attempt <= AUTH_RPM; attempt += 1) expect((await send('POST', '/v1/auth/login', {ip: `${subnet}::${attempt}`, body: otherWrongLogin})).status).toBe(401)
    expect((await send('POST', '/v1/auth/login', {ip: `${subnet}::ffff`, body: otherWrongLogin})).status).toBe(429)
    expect((await send('POST', '/v1/auth/login', {ip: `2001:db8:${counter}:2::1`, body: otherWrongLogin})).status).toBe(401)

    // The public group is a bucket of its own.
    for (let index = 1; index <= PUBLIC_RPM; index += 1) expect((await send('GET', '/.well-known/jwks.json', {ip})).status).toBe(200)
    const jwks = await send('GET', '/.well-known/jwks.json', {ip})
    expect({status: jwks.status, code: jwks.json.error.code, limit: jwks.headers.get('ratelimit-limit')}).toEqual({status: 429, code: 'http.rate_limited', limit: String(PUBLIC_RPM)})

    for (let index = 0; index < 10; index += 1) {
      const health = await send('GET', '/health', {ip})
      expect({status: health.status, limit: health.headers.get('ratelimit-limit')}).toEqual({status: 200, limit: null})
    }
    daemon.testCore.clock.advance(20_000)
    expect((await send('POST', '/v1/auth/login', {ip, body: wrongLogin})).status).toBe(401)
  })

  it('a token bound to no org draws from its client IP’s public bucket', async () => {
    const email = `${unique('unbound')}@example.com`
    await daemon.testCore.core.users.createUser(OPERATOR, {email, password: PASSWORD, isPlatformAdmin: true})
    const login = await send('POST', '/v1/auth/login', {body: JSON.stringify({email, password: PASSWORD})})
    expect(login.status, login.text).toBe(200)
    const ip = newIp()
    const me = await send('GET', '/v1/auth/me', {ip, token: login.json.access_token})
    expect({status: me.status, limit: me.headers.get('ratelimit-limit'), remaining: me.headers.get('ratelimit-remaining')}).toEqual({status: 200, limit: String(PUBLIC_RPM), remaining: String(PUBLIC_RPM - 1)})
    // The same address's anonymous reads share that bucket.
    expect(rateLimitHeaders(await send('GET', '/.well-known/jwks.json', {ip})).remaining).toBe(String(PUBLIC_RPM - 2))
  })

  it('a removed member’s token no longer draws from the former org’s bucket: its IP’s public bucket pays, on principal and token routes alike', async () => {
    const a = await seedOrg('removed')
    const {core} = daemon.testCore
    const email = `${unique('leaver')}@example.com`
    const {user} = await core.users.createUser(OPERATOR, {email, password: PASSWORD})
    await core.members.addMember(OPERATOR, {org: a.slug, user: user.id, role: 'member'})
    const login = await send('POST', '/v1/auth/login', {body: JSON.stringify({email, password: PASSWORD, org: a.slug})})
    expect(login.status, login.text).toBe(200)
    const token = login.json.access_token as string
    expect(rateLimitHeaders(await send('GET', `/v1/orgs/${a.slug}/members`, {token})).remaining).toBe(String(FREE_RPM - 1))
    // (A removal voids the tokens issued before it: the test clock moves on a second first.)
    daemon.testCore.clock.advance(1000)
    await core.members.removeMember(OPERATOR, {org: a.slug, user: user.id})
    const ip = newIp()
    for (let index = 1; index <= PUBLIC_RPM; index += 1) {
      // A principal route (refused: no longer a member) and a token route: both from the IP's public bucket.
      const response = index % 2 === 0 ? await send('GET', `/v1/orgs/${a.slug}/members`, {ip, token}) : await send('GET', '/v1/auth/me', {ip, token})
      expect({limit: response.headers.get('ratelimit-limit'), remaining: response.headers.get('ratelimit-remaining')}).toEqual({limit: String(PUBLIC_RPM), remaining: String(PUBLIC_RPM - index)})
    }
    const refused = await send('GET', `/v1/orgs/${a.slug}/members`, {ip, token})
    expect({status: refused.status, code: refused.json.error.code}).toEqual({status: 429, code: 'http.rate_limited'})
    // The org's bucket paid for none of it.
    expect(rateLimitHeaders(await send('GET', `/v1/orgs/${a.slug}/members`, {token: a.key})).remaining).toBe(String(FREE_RPM - 2))
  })

  it('bad credentials are limited: each 401 takes a token of the client IP’s auth bucket, then 429 http.rate_limited before the 401; good credentials are not charged', async () => {
    const a = await seedOrg('bad-credentials')
    const ip = newIp()
    const attempts = [
      () => send('GET', `/v1/orgs/${a.slug}/members`, {ip, token: 'sk_not-a-real-key'}),
      () => send('GET', '/v1/auth/me', {ip, token: 'not.a.jwt'}),
      () => send('GET', `/v1/orgs/${a.slug}/members`, {ip, token: 'forged.access.token'}),
    ]
    for (const [index, attempt] of attempts.entries()) {
      const response = await attempt()
      expect({status: response.status, code: response.json.error.code, limit: response.headers.get('ratelimit-limit'), remaining: response.headers.get('ratelimit-remaining')}).toEqual({
        status: 401,
        code: 'auth.invalid_token',
        limit: String(AUTH_RPM),
        remaining: String(AUTH_RPM - index - 1),
      })
    }
    for (const attempt of attempts) {
      const refused = await attempt()
      expect({status: refused.status, code: refused.json.error.code, retryAfter: refused.headers.get('retry-after')}).toEqual({status: 429, code: 'http.rate_limited', retryAfter: '20'})
    }
    // The same bucket as the address's sign-ins; another address is not touched.
    expect((await send('POST', '/v1/auth/login', {ip, body: JSON.stringify({email: 'x@example.com', password: 'wrong password here'})})).status).toBe(429)
    expect((await send('GET', '/v1/auth/me', {token: 'not.a.jwt'})).status).toBe(401)
    // Good credentials from that address pay from their org's bucket, as before.
    const good = await send('GET', `/v1/orgs/${a.slug}/members`, {ip, token: a.key})
    expect({status: good.status, limit: good.headers.get('ratelimit-limit')}).toEqual({status: 200, limit: String(FREE_RPM)})
    daemon.testCore.clock.advance(20_000)
    expect((await attempts[0]!()).status).toBe(401)
  })

  it('/openapi.json documents the 429 on every route that draws from a bucket, and only there', async () => {
    const {paths} = (await send('GET', '/openapi.json')).json
    expect(paths['/v1/orgs/{org}/members'].get.responses['429']).toBeDefined()
    expect(paths['/v1/auth/login'].post.responses['429']).toBeDefined()
    expect(paths['/v1/oauth/token'].post.responses['429']).toBeDefined()
    expect(paths['/health'].get.responses['429']).toBeUndefined()
    expect(paths['/v1/tokens/introspect'].post.responses['429']).toBeUndefined()
  })
})
