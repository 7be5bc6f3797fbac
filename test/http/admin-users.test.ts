import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {OPERATOR} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// User provisioning over HTTP for platform principals: POST /v1/admin/users, disable, enable,
// and ending a user's sessions. A platform API key and a platform-admin user may; an org member
// (even an owner), an org API key and anonymous callers may not.

const PASSWORD = 'correct horse battery staple'

describeEachDialect('admin users over HTTP', (dialect) => {
  let daemon: TestDaemon
  let counter = 0
  const unique = (label: string) => `${label}-${++counter}-${dialect}`

  const send = (method: string, path: string, token?: string, body?: unknown) =>
    request(`${daemon.url}${path}`, {
      method,
      headers: {...(body === undefined ? {} : {'content-type': 'application/json'}), ...(token ? {authorization: `Bearer ${token}`} : {})},
      body: body === undefined ? undefined : JSON.stringify(body),
    })

  function expectError(response: {status: number; json: any}, status: number, code: string) {
    expect({status: response.status, code: response.json?.error?.code}).toEqual({status, code})
  }

  async function loginToken(email: string): Promise<{access_token: string; refresh_token: string}> {
    const response = await send('POST', '/v1/auth/login', undefined, {email, password: PASSWORD})
    expect(response.status).toBe(200)
    return response.json
  }

  async function platformKey(): Promise<string> {
    return (await daemon.testCore.core.apiKeys.createPlatformKey(OPERATOR, {name: unique('provisioning')})).secret
  }

  async function platformAdminToken(): Promise<string> {
    const email = `${unique('root')}@example.com`
    await daemon.testCore.core.users.createUser(OPERATOR, {email, password: PASSWORD, isPlatformAdmin: true})
    return (await loginToken(email)).access_token
  }

  async function userWithSessions(count: number) {
    const email = `${unique('target')}@example.com`
    const {user} = await daemon.testCore.core.users.createUser(OPERATOR, {email, password: PASSWORD})
    const sessions = []
    for (let index = 0; index < count; index++) sessions.push(await loginToken(email))
    return {user, email, sessions}
  }

  beforeAll(async () => {
    daemon = await startTestDaemon(dialect)
  })
  afterAll(async () => {
    await daemon?.close()
  })

  describe.each([
    ['a platform API key', platformKey],
    ['a platform-admin user', platformAdminToken],
  ])('as %s', (_label, credential) => {
    it('creates a user (201), refuses a taken email (409 user.email_taken) and bad input (422)', async () => {
      const token = await credential()
      const email = `${unique('New.Person')}@Example.com`
      const created = await send('POST', '/v1/admin/users', token, {email, name: 'New Person'})
      expect(created.status).toBe(201)
      expect(created.json).toMatchObject({email: email.toLowerCase(), name: 'New Person', status: 'active', is_platform_admin: false})
      expect(created.json).not.toHaveProperty('password_hash')
      expect((await daemon.testCore.core.users.showUser(OPERATOR, {user: created.json.id})).email).toBe(email.toLowerCase())
      expectError(await send('POST', '/v1/admin/users', token, {email: email.toUpperCase()}), 409, 'user.email_taken')
      expectError(await send('POST', '/v1/admin/users', token, {email: 'not-an-email'}), 422, 'validation.failed')
      // Only email and name: a platform-admin flag in the body is not taken.
      const sneaky = await send('POST', '/v1/admin/users', token, {email: `${unique('sneaky')}@example.com`, is_platform_admin: true, password: PASSWORD})
      expect(sneaky.status).toBe(201)
      expect(sneaky.json.is_platform_admin).toBe(false)
      expectError(await send('POST', '/v1/auth/login', undefined, {email: sneaky.json.email, password: PASSWORD}), 401, 'auth.invalid_credentials')
    })

    it('disables a user (their tokens are refused at once) and enables them again', async () => {
      const token = await credential()
      const {user, email, sessions} = await userWithSessions(1)
      const disabled = await send('POST', `/v1/admin/users/${user.id}/disable`, token)
      expect(disabled.status).toBe(200)
      expect(disabled.json).toMatchObject({id: user.id, status: 'disabled'})
      expectError(await send('GET', '/v1/auth/me', sessions[0]!.access_token), 401, 'auth.invalid_token')
      expectError(await send('POST', '/v1/auth/login', undefined, {email, password: PASSWORD}), 403, 'user.disabled')
      const enabled = await send('POST', `/v1/admin/users/${encodeURIComponent(email)}/enable`, token)
      expect(enabled.status).toBe(200)
      expect(enabled.json).toMatchObject({id: user.id, status: 'active', disabled_at: null})
      daemon.testCore.clock.advance(1000)
      expect((await send('POST', '/v1/auth/login', undefined, {email, password: PASSWORD})).status).toBe(200)
      expectError(await send('POST', '/v1/admin/users/no-such-user/disable', token), 404, 'user.not_found')
    })

    it('ends every session of a user and says how many', async () => {
      const token = await credential()
      const {user, sessions} = await userWithSessions(3)
      const revoked = await send('DELETE', `/v1/admin/users/${user.id}/sessions`, token)
      expect(revoked.status).toBe(200)
      expect(revoked.json).toEqual({revoked_sessions: 3})
      for (const session of sessions) {
        expectError(await send('GET', '/v1/auth/me', session.access_token), 401, 'auth.invalid_token')
        expectError(await send('POST', '/v1/auth/refresh', undefined, {refresh_token: session.refresh_token}), 401, 'auth.invalid_refresh_token')
      }
      expect((await send('DELETE', `/v1/admin/users/${user.id}/sessions`, token)).json).toEqual({revoked_sessions: 0})
    })
  })

  it('refuses an organization owner, an organization API key and a disabled platform admin, and writes nothing', async () => {
    const {core} = daemon.testCore
    const ownerEmail = `${unique('owner')}@example.com`
    const registered = await send('POST', '/v1/auth/register', undefined, {email: ownerEmail, password: PASSWORD})
    const ownerToken = registered.json.access_token as string
    const orgKey = (await core.apiKeys.createApiKey(OPERATOR, {org: registered.json.org.id, name: unique('key'), role: 'owner'})).secret
    const adminEmail = `${unique('fallen-root')}@example.com`
    const {user: fallen} = await core.users.createUser(OPERATOR, {email: adminEmail, password: PASSWORD, isPlatformAdmin: true})
    const fallenToken = (await loginToken(adminEmail)).access_token
    const {user: target, sessions} = await userWithSessions(1)
    const before = await core.audit.latestSeq()

    for (const token of [ownerToken, orgKey]) {
      expectError(await send('POST', '/v1/admin/users', token, {email: `${unique('nope')}@example.com`}), 403, 'platform.required')
      expectError(await send('POST', `/v1/admin/users/${target.id}/disable`, token), 403, 'platform.required')
      expectError(await send('POST', `/v1/admin/users/${target.id}/enable`, token), 403, 'platform.required')
      expectError(await send('DELETE', `/v1/admin/users/${target.id}/sessions`, token), 403, 'platform.required')
    }
    expectError(await send('POST', `/v1/admin/users/${target.id}/disable`), 401, 'auth.invalid_token')
    expect(await core.audit.latestSeq()).toBe(before)
    expect((await send('GET', '/v1/auth/me', sessions[0]!.access_token)).status).toBe(200)

    await core.users.disableUser(OPERATOR, {user: fallen.id})
    expectError(await send('POST', `/v1/admin/users/${target.id}/disable`, fallenToken), 401, 'auth.invalid_token')
    expect((await core.users.showUser(OPERATOR, {user: target.id})).status).toBe('active')
  })

  it('documents the admin routes in the OpenAPI document with snake_case bodies', async () => {
    const document = (await send('GET', '/openapi.json')).json
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/v1/admin/users', '/v1/admin/users/{user}/disable', '/v1/admin/users/{user}/enable', '/v1/admin/users/{user}/sessions', '/v1/tenants/resolve']))
    expect(document.paths['/v1/admin/users'].post.security).toEqual([{access_token: []}, {api_key: []}])
    const register = document.paths['/v1/auth/register'].post.requestBody.content['application/json'].schema
    expect(Object.keys(register.properties).sort()).toEqual(['email', 'name', 'org_name', 'password'])
    const switchOrg = document.paths['/v1/auth/switch-org'].post.requestBody.content['application/json'].schema
    expect(Object.keys(switchOrg.properties).sort()).toEqual(['org', 'refresh_token'])
    const changePassword = document.paths['/v1/auth/change-password'].post.requestBody.content['application/json'].schema
    expect(changePassword.required.sort()).toEqual(['current_password', 'new_password'])
  })
})
