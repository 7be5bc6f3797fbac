import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {OPERATOR} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

const PASSWORD = 'correct horse battery staple'
const INTROSPECTION_SECRET = 'introspection-secret-for-api-key-tests-0123456789'

describeEachDialect('HTTP API keys', (dialect) => {
  let daemon: TestDaemon
  let counter = 0
  /** Owners of two organizations, each with an access token bound to their own. */
  let acme: {orgId: string; token: string}
  let globex: {orgId: string; token: string}

  const send = (method: string, path: string, token?: string, body?: unknown) =>
    request(`${daemon.url}${path}`, {
      method,
      headers: {...(body === undefined ? {} : {'content-type': 'application/json'}), ...(token ? {authorization: `Bearer ${token}`} : {})},
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  const introspect = async (token: string) => (await send('POST', '/v1/tokens/introspect', INTROSPECTION_SECRET, {token})).json

  async function register(): Promise<{orgId: string; token: string}> {
    const response = await send('POST', '/v1/auth/register', undefined, {email: `owner-${++counter}-${dialect}@example.com`, password: PASSWORD})
    expect(response.status, response.text).toBe(201)
    return {orgId: response.json.org.id, token: response.json.access_token}
  }

  /** A new user added to `orgId` with `role` by the operator, with a token bound to it. */
  async function memberOf(orgId: string, role: string): Promise<{userId: string; token: string}> {
    const email = `member-${++counter}-${dialect}@example.com`
    const registered = await send('POST', '/v1/auth/register', undefined, {email, password: PASSWORD})
    expect(registered.status, registered.text).toBe(201)
    const {members} = daemon.testCore.core
    await members.addMember(OPERATOR, {org: orgId, user: email, role})
    daemon.testCore.clock.advance(1)
    const login = await send('POST', '/v1/auth/login', undefined, {email, password: PASSWORD, org: orgId})
    expect(login.status, login.text).toBe(200)
    return {userId: registered.json.user.id, token: login.json.access_token}
  }

  async function createKey(org: string, token: string, body: Record<string, unknown>) {
    const response = await send('POST', `/v1/orgs/${org}/api-keys`, token, {name: `key-${++counter}`, ...body})
    expect(response.status, response.text).toBe(201)
    return response.json as {id: string; secret: string; prefix: string}
  }

  beforeAll(async () => {
    daemon = await startTestDaemon(dialect, {settings: {introspectionSecret: INTROSPECTION_SECRET}})
    // The introspection route reads the core's config, which the harness builds on its own.
    daemon.testCore.core.config.introspectionSecret = INTROSPECTION_SECRET
    acme = await register()
    globex = await register()
  })
  afterAll(async () => daemon?.close())

  describe('POST and GET /v1/orgs/{org}/api-keys', () => {
    it('creates a key with its secret once, in snake_case; the list never shows the secret', async () => {
      const response = await send('POST', `/v1/orgs/${acme.orgId}/api-keys`, acme.token, {name: 'deploy', permissions: ['org.read', 'flags.read'], expires_at: '30d'})
      expect(response.status, response.text).toBe(201)
      expect(response.json).toMatchObject({org_id: acme.orgId, is_platform: false, name: 'deploy', role: null, permissions: ['flags.read', 'org.read'], status: 'active', created_by: {type: 'user'}})
      expect(response.json.secret).toMatch(/^sk_[A-Za-z0-9_-]{43}$/)
      expect(response.json.prefix).toBe(response.json.secret.slice(0, 10))
      expect(response.json.expires_at).toBe(new Date(daemon.testCore.clock.now().getTime() + 30 * 86_400_000).toISOString())

      const list = await send('GET', `/v1/orgs/${acme.orgId}/api-keys`, acme.token)
      expect(list.status).toBe(200)
      expect(list.json.api_keys.map((key: {name: string}) => key.name)).toContain('deploy')
      expect(list.text).not.toContain(response.json.secret.slice(10))
      expect(list.json.api_keys[0]).not.toHaveProperty('secret')
    })

    it('refuses bad input with 422 and grants beyond the caller with 403, writing nothing', async () => {
      const before = await daemon.testCore.core.database.db.selectFrom('api_key').select('id').execute()
      const both = await send('POST', `/v1/orgs/${acme.orgId}/api-keys`, acme.token, {name: 'both', role: 'member', permissions: ['org.read']})
      expect([both.status, both.json.error.code]).toEqual([422, 'validation.failed'])
      const unknown = await send('POST', `/v1/orgs/${acme.orgId}/api-keys`, acme.token, {name: 'unknown', permissions: ['nope.never']})
      expect([unknown.status, unknown.json.error.code]).toEqual([422, 'permission.unknown'])
      const {secret: adminKey} = await createKey(acme.orgId, acme.token, {role: 'admin'})
      const owner = await send('POST', `/v1/orgs/${acme.orgId}/api-keys`, adminKey, {name: 'owner-by-admin-key', role: 'owner'})
      expect([owner.status, owner.json.error.code]).toEqual([403, 'role.grant_forbidden'])
      const orgDelete = await send('POST', `/v1/orgs/${acme.orgId}/api-keys`, adminKey, {name: 'delete-by-admin-key', permissions: ['org.delete']})
      expect([orgDelete.status, orgDelete.json.error.code]).toEqual([403, 'permission.not_held'])
      const after = await daemon.testCore.core.database.db.selectFrom('api_key').select('id').execute()
      expect(after.length).toBe(before.length + 1)
    })
  })

  describe('Bearer sk_…', () => {
    it('works on its own org with the same checks, is 404 on another org, and is audited as api_key', async () => {
      const {id: managerId, secret: manager} = await createKey(acme.orgId, acme.token, {permissions: ['apikeys.manage', 'org.read']})
      const {secret: reader} = await createKey(acme.orgId, acme.token, {permissions: ['org.read']})
      expect((await send('GET', `/v1/orgs/${acme.orgId}/api-keys`, manager)).status).toBe(200)
      const denied = await send('GET', `/v1/orgs/${acme.orgId}/api-keys`, reader)
      expect([denied.status, denied.json.error.code]).toEqual([403, 'permission.denied'])
      for (const org of [globex.orgId, 'no-such-org']) {
        const foreign = await send('GET', `/v1/orgs/${org}/api-keys`, manager)
        expect([foreign.status, foreign.json.error.code]).toEqual([404, 'org.not_found'])
      }

      const before = await daemon.testCore.core.audit.latestSeq()
      const made = await send('POST', `/v1/orgs/${acme.orgId}/api-keys`, manager, {name: 'made-by-key', permissions: ['org.read']})
      expect(made.status).toBe(201)
      const events = await daemon.testCore.core.audit.listEventsAfter({afterSeq: before})
      expect(events.map((event) => [event.action, event.orgId, event.actor.type, event.actor.id])).toEqual([['apikey.created', acme.orgId, 'api_key', managerId]])
      expect(events[0]!.requestId).toEqual(made.headers.get('x-request-id'))
    })

    it('refuses unknown, malformed and another org’s keys: DELETE of a foreign id is apikey.not_found', async () => {
      const unknown = await send('GET', `/v1/orgs/${acme.orgId}/api-keys`, `sk_${'x'.repeat(43)}`)
      expect([unknown.status, unknown.json.error.code]).toEqual([401, 'auth.invalid_token'])
      const {id: globexKey, secret: globexSecret} = await createKey(globex.orgId, globex.token, {role: 'viewer'})
      const foreign = await send('DELETE', `/v1/orgs/${acme.orgId}/api-keys/${globexKey}`, acme.token)
      expect([foreign.status, foreign.json.error.code]).toEqual([404, 'apikey.not_found'])
      expect((await introspect(globexSecret)).active).toBe(true)
    })

    it('stops working on the next request after DELETE, and after a revocation made elsewhere', async () => {
      const {id, secret} = await createKey(acme.orgId, acme.token, {role: 'admin'})
      expect((await send('GET', `/v1/orgs/${acme.orgId}/api-keys`, secret)).status).toBe(200)
      const deleted = await send('DELETE', `/v1/orgs/${acme.orgId}/api-keys/${id}`, acme.token)
      expect(deleted.status).toBe(204)
      const refused = await send('GET', `/v1/orgs/${acme.orgId}/api-keys`, secret)
      expect([refused.status, refused.json.error.code]).toEqual([401, 'auth.invalid_token'])
      expect(await introspect(secret)).toEqual({active: false})

      // As the CLI does it: straight to the database, no signal to this daemon.
      const other = await createKey(acme.orgId, acme.token, {role: 'admin'})
      await daemon.testCore.core.apiKeys.revokeApiKey(OPERATOR, {id: other.id})
      expect((await send('GET', `/v1/orgs/${acme.orgId}/api-keys`, other.secret)).status).toBe(401)
    })
  })

  describe('keys capped by their creator', () => {
    it('stop working once the admin who made them is removed: no reads, no new keys, no revocations', async () => {
      const admin = await memberOf(acme.orgId, 'admin')
      const held = (await send('GET', `/v1/orgs/${acme.orgId}/me`, admin.token)).json.permissions as string[]
      const {secret} = await createKey(acme.orgId, admin.token, {permissions: held})
      const {id: ownerKey} = await createKey(acme.orgId, acme.token, {role: 'owner'})
      expect((await send('GET', `/v1/orgs/${acme.orgId}/members`, secret)).status).toBe(200)
      // Even before: apikeys.manage does not reach a key ranking above the caller.
      const early = await send('DELETE', `/v1/orgs/${acme.orgId}/api-keys/${ownerKey}`, secret)
      expect([early.status, early.json.error.code]).toEqual([403, 'role.grant_forbidden'])

      expect((await send('DELETE', `/v1/orgs/${acme.orgId}/members/${admin.userId}`, acme.token)).status).toBe(204)
      for (const [method, path, body] of [
        ['GET', `/v1/orgs/${acme.orgId}/members`, undefined],
        ['POST', `/v1/orgs/${acme.orgId}/api-keys`, {name: `after-removal-${++counter}`, permissions: ['org.read']}],
        ['DELETE', `/v1/orgs/${acme.orgId}/api-keys/${ownerKey}`, undefined],
      ] as const) {
        const refused = await send(method, path, secret, body)
        expect([refused.status, refused.json.error.code], `${method} ${path}`).toEqual([401, 'auth.invalid_token'])
      }
      expect(await introspect(secret)).toEqual({active: false})
    })

    it('an owner-role key of a removed co-owner cannot delete the org; an owner-role key cannot restore it', async () => {
      const org = await register()
      const coOwner = await memberOf(org.orgId, 'owner')
      const {secret} = await createKey(org.orgId, coOwner.token, {role: 'owner'})
      expect((await send('DELETE', `/v1/orgs/${org.orgId}/members/${coOwner.userId}`, org.token)).status).toBe(204)
      const deleted = await send('DELETE', `/v1/orgs/${org.orgId}`, secret)
      expect([deleted.status, deleted.json.error.code]).toEqual([401, 'auth.invalid_token'])
      expect((await send('GET', `/v1/orgs/${org.orgId}`, org.token)).status).toBe(200)

      const {secret: ownerKey} = await createKey(org.orgId, org.token, {role: 'owner'})
      expect((await send('DELETE', `/v1/orgs/${org.orgId}`, ownerKey)).status).toBe(200)
      const restored = await send('POST', `/v1/orgs/${org.orgId}/restore`, ownerKey)
      expect([restored.status, restored.json.error.code]).toEqual([404, 'org.not_found'])
      expect((await send('POST', `/v1/orgs/${org.orgId}/restore`, org.token)).status).toBe(200)
    })

    it('a key with apikeys.manage only cannot revoke a key holding more', async () => {
      const {secret: manager} = await createKey(acme.orgId, acme.token, {permissions: ['apikeys.manage']})
      const {id: reader} = await createKey(acme.orgId, acme.token, {permissions: ['org.read']})
      const refused = await send('DELETE', `/v1/orgs/${acme.orgId}/api-keys/${reader}`, manager)
      expect([refused.status, refused.json.error.code]).toEqual([403, 'permission.not_held'])
      const {id: peer} = await createKey(acme.orgId, acme.token, {permissions: ['apikeys.manage']})
      expect((await send('DELETE', `/v1/orgs/${acme.orgId}/api-keys/${peer}`, manager)).status).toBe(204)
    })
  })

  describe('introspection of sk_ keys', () => {
    it('reports the org and the permissions now; a platform key reports platform and no org', async () => {
      const {id, secret} = await createKey(acme.orgId, acme.token, {role: 'viewer'})
      expect(await introspect(secret)).toMatchObject({
        active: true,
        token_type: 'api_key',
        sub: id,
        org: acme.orgId,
        role: 'viewer',
        permissions: ['flags.read', 'members.read', 'org.read', 'roles.read'],
      })
      expect(await introspect(`sk_${'y'.repeat(43)}`)).toEqual({active: false})

      const platform = await daemon.testCore.core.apiKeys.createPlatformKey(OPERATOR, {name: `provisioning-${dialect}`})
      const described = await introspect(platform.secret)
      expect(described).toMatchObject({active: true, token_type: 'api_key', org: null, platform: true})
      expect(described.permissions).toContain('apikeys.manage')
      // And it acts on every org.
      expect((await send('GET', `/v1/orgs/${globex.orgId}/api-keys`, platform.secret)).status).toBe(200)
    })
  })
})
