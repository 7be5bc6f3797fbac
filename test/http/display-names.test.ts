import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// Issue 7, item 5: user, org and role names refuse control characters (C0, DEL, C1 and the
// bidi controls), which could rewrite an operator's terminal or make a name read as another.

const PASSWORD = 'correct horse battery staple'

describeEachDialect('display names', (dialect) => {
  let daemon: TestDaemon
  let counter = 0

  const send = (method: string, path: string, token?: string, body?: unknown) =>
    request(`${daemon.url}${path}`, {
      method,
      headers: {...(body === undefined ? {} : {'content-type': 'application/json'}), ...(token ? {authorization: `Bearer ${token}`} : {})},
      body: body === undefined ? undefined : JSON.stringify(body),
    })

  async function register(extra: Record<string, unknown> = {}) {
    const email = `names-${++counter}-${dialect}@example.com`
    return {response: await send('POST', '/v1/auth/register', undefined, {email, password: PASSWORD, ...extra}), email}
  }

  async function session() {
    const {response} = await register()
    expect(response.status, response.text).toBe(201)
    return {accessToken: response.json.access_token as string, orgId: response.json.org.id as string}
  }

  beforeAll(async () => {
    daemon = await startTestDaemon(dialect)
  })
  afterAll(async () => {
    await daemon?.close()
  })

  describe('names refuse control characters (validation.failed)', () => {
    const BAD = ['bell\u0007', 'esc \u001b[31mred', 'del\u007f', 'c1 \u0085', 'c1 \u009b31m', 'rtl \u202eevil', 'embed \u202a', 'isolate \u2066x\u2069', 'new\nline', 'tab\there']

    it.each(BAD)('user name and org name at register: %j', async (name) => {
      for (const extra of [{name}, {org_name: name}]) {
        const {response} = await register(extra)
        expect([response.status, response.json.error.code], JSON.stringify(extra)).toEqual([422, 'validation.failed'])
      }
    })

    it.each(BAD)('org create and rename, role create and rename: %j', async (name) => {
      const {accessToken, orgId} = await session()
      const created = await send('POST', '/v1/orgs', accessToken, {name})
      expect([created.status, created.json.error?.code]).toEqual([422, 'validation.failed'])
      const renamed = await send('PATCH', `/v1/orgs/${orgId}`, accessToken, {name})
      expect([renamed.status, renamed.json.error?.code]).toEqual([422, 'validation.failed'])
      const role = await send('POST', `/v1/orgs/${orgId}/roles`, accessToken, {key: 'auditor', name, permissions: ['org.read']})
      expect([role.status, role.json.error?.code]).toEqual([422, 'validation.failed'])
      const roleRenamed = await send('PATCH', `/v1/orgs/${orgId}/roles/member`, accessToken, {name})
      expect([roleRenamed.status, roleRenamed.json.error?.code]).toEqual([422, 'validation.failed'])
    })

    it('accepts names beyond ASCII (the control)', async () => {
      const {response} = await register({name: 'Zoë Ångström 山田', org_name: 'Café “Ünïcode” ☕'})
      expect(response.status, response.text).toBe(201)
      const {accessToken, orgId} = await session()
      expect((await send('POST', `/v1/orgs/${orgId}/roles`, accessToken, {key: 'auditor', name: 'Prüfer 監査', permissions: ['org.read']})).status).toBe(201)
    })
  })
})
