import {request as httpRequest} from 'node:http'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {OPERATOR} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {startTestDaemon, type TestDaemon} from './http-harness.js'

// Tenant context at login and switch-org: the organization named by the body, the X-Tenant-Slug
// and X-Tenant-ID headers, or the host (a subdomain of base_domain, or a custom domain); and the
// gateway's GET /v1/tenants/resolve. Requests go through node:http, since fetch cannot set Host.

const PASSWORD = 'correct horse battery staple'
const BASE_DOMAIN = 'app.example.test'
const INTROSPECTION_SECRET = 'introspection-secret-for-tenant-tests-0123456789'
// The daemon itself lives under the base domain: its own host must not read as tenant "auth".
const ISSUER = `https://auth.${BASE_DOMAIN}`

interface Reply {
  status: number
  json: any
}

function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))
}

describeEachDialect('tenant context over HTTP', (dialect) => {
  let daemon: TestDaemon
  let port: number
  let counter = 0
  const unique = (label: string) => `${label}-${++counter}-${dialect}`

  function send(method: string, path: string, options: {body?: unknown; token?: string; host?: string; headers?: Record<string, string>} = {}): Promise<Reply> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
    const headers: Record<string, string> = {
      host: options.host ?? `127.0.0.1:${port}`,
      ...(payload === undefined ? {} : {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload))}),
      ...(options.token ? {authorization: `Bearer ${options.token}`} : {}),
      ...options.headers,
    }
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest({host: '127.0.0.1', port, method, path, headers}, (incoming) => {
        const chunks: Buffer[] = []
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({status: incoming.statusCode ?? 0, json: text ? JSON.parse(text) : undefined})
        })
      })
      outgoing.on('error', reject)
      outgoing.end(payload)
    })
  }

  const login = (email: string, options: {org?: string; host?: string; headers?: Record<string, string>} = {}) =>
    send('POST', '/v1/auth/login', {body: {email, password: PASSWORD, ...(options.org ? {org: options.org} : {})}, host: options.host, headers: options.headers})

  function expectError(reply: Reply, status: number, code: string) {
    expect({status: reply.status, code: reply.json?.error?.code}).toEqual({status, code})
  }

  /** A user who belongs to `acme` (as admin) and their personal org, next to an org they are not in. */
  async function world() {
    const {core} = daemon.testCore
    const email = `${unique('tenant')}@example.com`
    const registered = await send('POST', '/v1/auth/register', {body: {email, password: PASSWORD}})
    expect(registered.status).toBe(201)
    const owner = (await core.users.createUser(OPERATOR, {email: `${unique('owner')}@example.com`})).user
    const acme = (await core.orgs.createOrg(OPERATOR, {name: 'Acme', slug: unique('acme'), owner: owner.id})).org
    await core.members.addMember(OPERATOR, {org: acme.id, user: registered.json.user.id, role: 'admin'})
    const foreign = (await core.orgs.createOrg(OPERATOR, {name: 'Foreign', slug: unique('foreign'), owner: owner.id})).org
    return {email, userId: registered.json.user.id as string, personal: registered.json.org as {id: string; slug: string}, acme, foreign, registered: registered.json}
  }

  async function liveSessionCount(userId: string): Promise<number> {
    return (await daemon.testCore.core.sessions.listSessions(OPERATOR, {user: userId})).length
  }

  beforeAll(async () => {
    // Wrong passwords are tried many times from one IP here: a failure budget of its own.
    daemon = await startTestDaemon(dialect, {settings: {baseDomain: BASE_DOMAIN, introspectionSecret: INTROSPECTION_SECRET, issuer: ISSUER, failedAttemptsPerMinute: 100}})
    port = Number(new URL(daemon.url).port)
  })
  afterAll(async () => {
    await daemon?.close()
  })

  describe('login', () => {
    it('binds the organization named by the body, either header, a base_domain subdomain or a custom domain', async () => {
      const {email, acme} = await world()
      await daemon.testCore.core.orgs.updateOrg(OPERATOR, {org: acme.id, domain: `login.${acme.slug}.test`})
      const ways: [string, Parameters<typeof login>[1]][] = [
        ['body slug', {org: acme.slug}],
        ['body id', {org: acme.id}],
        ['X-Tenant-Slug', {headers: {'x-tenant-slug': acme.slug}}],
        ['X-Tenant-ID', {headers: {'x-tenant-id': acme.id}}],
        ['subdomain', {host: `${acme.slug}.${BASE_DOMAIN}`}],
        ['subdomain with port and another case', {host: `${acme.slug.toUpperCase()}.${BASE_DOMAIN}:8443`}],
        ['custom domain', {host: `login.${acme.slug}.test`}],
      ]
      for (const [label, options] of ways) {
        const reply = await login(email, options)
        expect(reply.status, label).toBe(200)
        expect(decodePayload(reply.json.access_token), label).toMatchObject({org: acme.id, role: 'admin'})
      }
    })

    it('takes the body before the header and the header before the host when they name the same organization', async () => {
      const {email, acme} = await world()
      const reply = await login(email, {org: acme.slug, headers: {'x-tenant-id': acme.id, 'x-tenant-slug': acme.slug}, host: `${acme.slug}.${BASE_DOMAIN}`})
      expect(reply.status).toBe(200)
      expect(decodePayload(reply.json.access_token)).toMatchObject({org: acme.id, role: 'admin'})
    })

    it('refuses sources that name different organizations with 422 tenant.ambiguous, and opens no session', async () => {
      const {email, userId, acme, personal, foreign} = await world()
      const before = await liveSessionCount(userId)
      const conflicts: [string, Parameters<typeof login>[1]][] = [
        ['body and header', {org: acme.slug, headers: {'x-tenant-slug': personal.slug}}],
        ['body and host', {org: personal.id, host: `${acme.slug}.${BASE_DOMAIN}`}],
        ['header and host', {headers: {'x-tenant-id': personal.id}, host: `${acme.slug}.${BASE_DOMAIN}`}],
        ['the two headers', {headers: {'x-tenant-slug': acme.slug, 'x-tenant-id': personal.id}}],
      ]
      for (const [label, options] of conflicts) {
        const reply = await login(email, options)
        expect({label, status: reply.status, code: reply.json?.error?.code}).toEqual({label, status: 422, code: 'tenant.ambiguous'})
      }
      expect(await liveSessionCount(userId)).toBe(before)
    })

    // The answer must not depend on whether an organization the caller is not in exists: an
    // unknown name used to count as an organization of its own, so naming it twice (body and
    // header) was 422 tenant.ambiguous where an existing foreign org was 404.
    it('answers 404 org.not_found when any source names an org the caller is not in, existing or not, also twice or next to a member org', async () => {
      const {core} = daemon.testCore
      const {email, userId, acme, foreign} = await world()
      const gone = (await core.orgs.createOrg(OPERATOR, {name: 'Gone', slug: unique('gone'), owner: userId})).org
      await core.orgs.deleteOrg(OPERATOR, {org: gone.id})
      const missingSlug = unique('missing')
      const missingId = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'
      const before = await liveSessionCount(userId)
      const attempts: [string, Parameters<typeof login>[1]][] = [
        ['unknown slug by body and X-Tenant-Slug', {org: missingSlug, headers: {'x-tenant-slug': missingSlug}}],
        ['foreign slug by body and X-Tenant-Slug', {org: foreign.slug, headers: {'x-tenant-slug': foreign.slug}}],
        ['deleted slug by body and X-Tenant-Slug', {org: gone.slug, headers: {'x-tenant-slug': gone.slug}}],
        ['unknown id by body and X-Tenant-ID', {org: missingId, headers: {'x-tenant-id': missingId}}],
        ['foreign id by body and X-Tenant-ID', {org: foreign.id, headers: {'x-tenant-id': foreign.id}}],
        ['unknown slug by body, header and subdomain', {org: missingSlug, headers: {'x-tenant-slug': missingSlug}, host: `${missingSlug}.${BASE_DOMAIN}`}],
        ['foreign slug by body, header and subdomain', {org: foreign.slug, headers: {'x-tenant-slug': foreign.slug}, host: `${foreign.slug}.${BASE_DOMAIN}`}],
        ['unknown by slug, foreign by id', {headers: {'x-tenant-slug': missingSlug, 'x-tenant-id': foreign.id}}],
        ['a member org and a foreign one', {org: acme.slug, headers: {'x-tenant-slug': foreign.slug}}],
        ['a member org and one that does not exist', {org: acme.slug, host: `${missingSlug}.${BASE_DOMAIN}`}],
        ['a member org and a deleted one', {org: acme.slug, headers: {'x-tenant-id': gone.id}}],
        ['a foreign org and a member one', {org: foreign.slug, headers: {'x-tenant-slug': acme.slug}}],
        ['an unknown org and a member one', {org: missingSlug, headers: {'x-tenant-id': acme.id}}],
      ]
      for (const [label, options] of attempts) {
        const reply = await login(email, options)
        expect({label, status: reply.status, code: reply.json?.error?.code}).toEqual({label, status: 404, code: 'org.not_found'})
      }
      expect(await liveSessionCount(userId)).toBe(before)
    })

    it('answers a wrong password 401 auth.invalid_credentials whatever organizations the request names', async () => {
      const {email, acme, foreign, personal} = await world()
      const missing = unique('missing')
      const hints: [string, {org?: string; host?: string; headers?: Record<string, string>}][] = [
        ['none', {}],
        ['member', {org: acme.slug, headers: {'x-tenant-slug': acme.slug}}],
        ['foreign', {org: foreign.slug, headers: {'x-tenant-slug': foreign.slug}}],
        ['unknown', {org: missing, headers: {'x-tenant-slug': missing}}],
        ['member and foreign', {org: acme.slug, headers: {'x-tenant-id': foreign.id}}],
        ['member and unknown', {org: acme.slug, host: `${missing}.${BASE_DOMAIN}`}],
        ['two of the caller\'s', {org: acme.slug, headers: {'x-tenant-id': personal.id}}],
      ]
      for (const account of [email, `${unique('nobody')}@example.com`]) {
        for (const [label, options] of hints) {
          const reply = await send('POST', '/v1/auth/login', {body: {email: account, password: `${PASSWORD}!`, ...(options.org ? {org: options.org} : {})}, host: options.host, headers: options.headers})
          expect({label, status: reply.status, code: reply.json?.error?.code}).toEqual({label, status: 401, code: 'auth.invalid_credentials'})
        }
      }
    })

    it('answers a foreign, an unknown and a deleted organization alike, 404 org.not_found, by body, header or host', async () => {
      const {core} = daemon.testCore
      const {email, userId, foreign} = await world()
      const gone = (await core.orgs.createOrg(OPERATOR, {name: 'Gone', slug: unique('gone'), owner: userId})).org
      await core.orgs.deleteOrg(OPERATOR, {org: gone.id})
      await core.orgs.updateOrg(OPERATOR, {org: foreign.id, domain: `login.${foreign.slug}.test`})
      const before = await liveSessionCount(userId)
      const missing = unique('missing')
      const attempts: [string, Parameters<typeof login>[1]][] = [
        ['foreign by body', {org: foreign.slug}],
        ['unknown by body', {org: missing}],
        ['deleted by body', {org: gone.slug}],
        ['foreign by X-Tenant-Slug', {headers: {'x-tenant-slug': foreign.slug}}],
        ['unknown by X-Tenant-ID', {headers: {'x-tenant-id': missing}}],
        ['foreign by subdomain', {host: `${foreign.slug}.${BASE_DOMAIN}`}],
        ['unknown by subdomain', {host: `${missing}.${BASE_DOMAIN}`}],
        ['deleted by subdomain', {host: `${gone.slug}.${BASE_DOMAIN}`}],
        ['foreign by custom domain', {host: `login.${foreign.slug}.test`}],
      ]
      const errors = []
      for (const [label, options] of attempts) {
        const reply = await login(email, options)
        expect({label, status: reply.status, code: reply.json?.error?.code}).toEqual({label, status: 404, code: 'org.not_found'})
        errors.push(reply.json.error.details)
      }
      expect(new Set(errors.map((details) => JSON.stringify(details))).size).toBe(1)
      expect(await liveSessionCount(userId)).toBe(before)
    })

    it('leaves the token unbound for hosts that name no organization, the daemon\'s own host included', async () => {
      const {email, userId} = await world()
      // An organization whose slug is the daemon's own subdomain, with the caller a member.
      await daemon.testCore.core.orgs.createOrg(OPERATOR, {name: 'Auth', slug: 'auth', owner: userId, ifNotExists: true})
      for (const host of [`127.0.0.1:${port}`, BASE_DOMAIN, `deep.er.${BASE_DOMAIN}`, 'elsewhere.example.org', '[::1]:8080', `auth.${BASE_DOMAIN}`, `AUTH.${BASE_DOMAIN}:443`]) {
        const reply = await login(email, {host})
        expect(reply.status, host).toBe(200)
        expect(decodePayload(reply.json.access_token), host).not.toHaveProperty('org')
      }
    })
  })

  describe('switch-org', () => {
    it('takes the organization from a header or the host, like login', async () => {
      const {email, acme, personal} = await world()
      const session = (await login(email)).json
      const byHeader = await send('POST', '/v1/auth/switch-org', {body: {}, token: session.access_token, headers: {'x-tenant-slug': acme.slug}})
      expect(byHeader.status).toBe(200)
      expect(decodePayload(byHeader.json.access_token)).toMatchObject({org: acme.id, role: 'admin'})
      expect(byHeader.json).not.toHaveProperty('refresh_token')
      const byHost = await send('POST', '/v1/auth/switch-org', {body: {}, token: session.access_token, host: `${personal.slug}.${BASE_DOMAIN}`})
      expect(decodePayload(byHost.json.access_token)).toMatchObject({org: personal.id, role: 'owner'})
      expectError(await send('POST', '/v1/auth/switch-org', {body: {org: acme.slug}, token: session.access_token, host: `${personal.slug}.${BASE_DOMAIN}`}), 422, 'tenant.ambiguous')
      expectError(await send('POST', '/v1/auth/switch-org', {body: {}, token: session.access_token}), 422, 'validation.failed')
    })

    it('answers 404 org.not_found for an org the caller is not in, existing or not, named twice or next to a member org; 422 only between two of theirs', async () => {
      const {email, acme, personal, foreign} = await world()
      const session = (await login(email)).json
      const switchTo = (body: Record<string, string>, headers: Record<string, string>) => send('POST', '/v1/auth/switch-org', {body, token: session.access_token, headers})
      const missingSlug = unique('missing')
      const missingId = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c'
      const attempts: [string, Record<string, string>, Record<string, string>][] = [
        ['unknown slug by body and X-Tenant-Slug', {org: missingSlug}, {'x-tenant-slug': missingSlug}],
        ['foreign slug by body and X-Tenant-Slug', {org: foreign.slug}, {'x-tenant-slug': foreign.slug}],
        ['unknown id by body and X-Tenant-ID', {org: missingId}, {'x-tenant-id': missingId}],
        ['foreign id by body and X-Tenant-ID', {org: foreign.id}, {'x-tenant-id': foreign.id}],
        ['a member org and an unknown one', {org: acme.slug}, {'x-tenant-slug': missingSlug}],
        ['a member org and a foreign one', {org: acme.slug}, {'x-tenant-id': foreign.id}],
      ]
      for (const [label, body, headers] of attempts) {
        const reply = await switchTo(body, headers)
        expect({label, status: reply.status, code: reply.json?.error?.code}).toEqual({label, status: 404, code: 'org.not_found'})
      }
      expectError(await switchTo({org: acme.slug}, {'x-tenant-id': personal.id}), 422, 'tenant.ambiguous')
      expect((await switchTo({org: acme.slug}, {'x-tenant-id': acme.id})).status).toBe(200)
    })

    it('with the session’s refresh token rotates it and returns both; without one returns an access token only', async () => {
      const {email, acme, personal} = await world()
      const session = (await login(email)).json
      const accessOnly = await send('POST', '/v1/auth/switch-org', {body: {org: acme.slug}, token: session.access_token})
      expect(accessOnly.status).toBe(200)
      expect(Object.keys(accessOnly.json).sort()).toEqual(['access_token', 'expires_in', 'session_id', 'token_type'])

      const rotated = await send('POST', '/v1/auth/switch-org', {body: {org: personal.id, refresh_token: session.refresh_token}, token: accessOnly.json.access_token})
      expect(rotated.status).toBe(200)
      expect(rotated.json.refresh_token).toEqual(expect.any(String))
      expect(decodePayload(rotated.json.access_token)).toMatchObject({org: personal.id, role: 'owner', sid: session.session_id})
      const refreshed = await send('POST', '/v1/auth/refresh', {body: {refresh_token: rotated.json.refresh_token}})
      expect(decodePayload(refreshed.json.access_token)).toMatchObject({org: personal.id})
      // The refresh token presented to switch-org was used up: presenting it again is a reuse.
      expectError(await send('POST', '/v1/auth/refresh', {body: {refresh_token: session.refresh_token}}), 401, 'auth.refresh_token_reused')
    })

    it('refuses a refresh token of another session (401 auth.invalid_refresh_token) and a foreign or unknown org alike (404)', async () => {
      const {email, foreign} = await world()
      const mine = (await login(email)).json
      const other = (await login(email)).json
      const {acme} = await world()
      expectError(await send('POST', '/v1/auth/switch-org', {body: {org: foreign.slug, refresh_token: mine.refresh_token}, token: mine.access_token}), 404, 'org.not_found')
      expectError(await send('POST', '/v1/auth/switch-org', {body: {org: unique('nope'), refresh_token: mine.refresh_token}, token: mine.access_token}), 404, 'org.not_found')
      expectError(await send('POST', '/v1/auth/switch-org', {body: {org: acme.slug}, token: mine.access_token}), 404, 'org.not_found')
      const personal = decodePayload(mine.access_token).sub as string
      const myOrgs = await daemon.testCore.core.users.showUser(OPERATOR, {user: personal})
      const reply = await send('POST', '/v1/auth/switch-org', {body: {org: myOrgs.memberships[0]!.orgId, refresh_token: other.refresh_token}, token: mine.access_token})
      expectError(reply, 401, 'auth.invalid_refresh_token')
      // Neither refresh token was used up.
      expect((await send('POST', '/v1/auth/refresh', {body: {refresh_token: other.refresh_token}})).status).toBe(200)
      expect((await send('POST', '/v1/auth/refresh', {body: {refresh_token: mine.refresh_token}})).status).toBe(200)
    })
  })

  describe('GET /v1/tenants/resolve', () => {
    const resolve = (host: string, token?: string) => send('GET', `/v1/tenants/resolve?host=${encodeURIComponent(host)}`, {token})

    it('names the organization of a subdomain or a custom domain for the introspection client', async () => {
      const {acme} = await world()
      await daemon.testCore.core.orgs.updateOrg(OPERATOR, {org: acme.id, domain: `portal.${acme.slug}.test`})
      const expected = {org: {id: acme.id, slug: acme.slug, name: 'Acme', tier: 'free'}}
      for (const host of [`${acme.slug}.${BASE_DOMAIN}`, `${acme.slug}.${BASE_DOMAIN}:443`, `portal.${acme.slug}.test`, `PORTAL.${acme.slug}.test.`]) {
        const reply = await resolve(host, INTROSPECTION_SECRET)
        expect({host, status: reply.status, body: reply.json}).toEqual({host, status: 200, body: expected})
      }
    })

    it('answers 404 org.not_found for hosts that name no live organization', async () => {
      const {core} = daemon.testCore
      const {userId} = await world()
      const gone = (await core.orgs.createOrg(OPERATOR, {name: 'Gone', slug: unique('gone'), owner: userId})).org
      await core.orgs.deleteOrg(OPERATOR, {org: gone.id})
      await core.orgs.createOrg(OPERATOR, {name: 'Auth', slug: 'auth', owner: userId, ifNotExists: true})
      for (const host of [`${unique('missing')}.${BASE_DOMAIN}`, BASE_DOMAIN, `a.b.${BASE_DOMAIN}`, 'example.org', '127.0.0.1', `${gone.slug}.${BASE_DOMAIN}`, `auth.${BASE_DOMAIN}`]) {
        expectError(await resolve(host, INTROSPECTION_SECRET), 404, 'org.not_found')
      }
    })

    it('takes a platform API key; refuses an organization key (403), and anything else (401 auth.invalid_client)', async () => {
      const {core} = daemon.testCore
      const {acme, registered} = await world()
      const platform = await core.apiKeys.createPlatformKey(OPERATOR, {name: unique('gateway')})
      expect((await resolve(`${acme.slug}.${BASE_DOMAIN}`, platform.secret)).json).toMatchObject({org: {id: acme.id}})
      const orgKey = await core.apiKeys.createApiKey(OPERATOR, {org: acme.id, name: unique('org-key'), role: 'admin'})
      expectError(await resolve(`${acme.slug}.${BASE_DOMAIN}`, orgKey.secret), 403, 'platform.required')
      expectError(await resolve(`${acme.slug}.${BASE_DOMAIN}`), 401, 'auth.invalid_client')
      expectError(await resolve(`${acme.slug}.${BASE_DOMAIN}`, 'not-the-secret'), 401, 'auth.invalid_client')
      expectError(await resolve(`${acme.slug}.${BASE_DOMAIN}`, `${INTROSPECTION_SECRET}x`), 401, 'auth.invalid_client')
      // A user's access token is not a gateway credential, not even a platform admin's.
      expectError(await resolve(`${acme.slug}.${BASE_DOMAIN}`, registered.access_token), 401, 'auth.invalid_client')
      await core.apiKeys.revokeApiKey(OPERATOR, {id: platform.key.id})
      expectError(await resolve(`${acme.slug}.${BASE_DOMAIN}`, platform.secret), 401, 'auth.invalid_token')
      expectError(await send('GET', '/v1/tenants/resolve', {token: INTROSPECTION_SECRET}), 422, 'validation.failed')
    })
  })
})
