import {afterAll, beforeAll, expect, it} from 'vitest'
import {totpCode} from '../helpers/rfc6238.js'
import {OPERATOR} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// PATCH /v1/orgs/{org} {require_2fa}: owners and admins (org.update) set and clear it; the
// organization's JSON shows it. (What it refuses at login is the login flow's test.)

const PASSWORD = 'correct horse battery staple'

describeEachDialect('org require_2fa over HTTP', (dialect) => {
  let daemon: TestDaemon
  const send = (method: string, path: string, token: string, body?: unknown) =>
    request(`${daemon.url}${path}`, {
      method,
      headers: {authorization: `Bearer ${token}`, ...(body === undefined ? {} : {'content-type': 'application/json'})},
      body: body === undefined ? undefined : JSON.stringify(body),
    })

  async function tokenOf(email: string, org: string): Promise<string> {
    const response = await request(`${daemon.url}/v1/auth/login`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({email, password: PASSWORD, org})})
    expect(response.status).toBe(200)
    return response.json.access_token
  }

  beforeAll(async () => {
    daemon = await startTestDaemon(dialect)
  })
  afterAll(async () => daemon?.close())

  it('an owner sets and clears it; a member is refused; show and list carry it', async () => {
    const {core} = daemon.testCore
    const emails = {owner: `owner-${dialect}@example.com`, member: `member-${dialect}@example.com`}
    const {user: owner} = await core.users.createUser(OPERATOR, {email: emails.owner, password: PASSWORD})
    const {user: member} = await core.users.createUser(OPERATOR, {email: emails.member, password: PASSWORD})
    await core.orgs.createOrg(OPERATOR, {name: 'Secure', slug: 'secure', owner: owner.id})
    await core.members.addMember(OPERATOR, {org: 'secure', user: member.id, role: 'member'})
    // Tokens first: once the org requires 2FA, logging in to it without 2FA is refused.
    const ownerToken = await tokenOf(emails.owner, 'secure')
    const memberToken = await tokenOf(emails.member, 'secure')
    // Both turn 2FA on: turning require_2fa on revokes what members without it hold in the org.
    for (const userId of [owner.id, member.id]) {
      const {secret} = await core.mfa.setup(OPERATOR, {user: userId})
      await core.mfa.enable(OPERATOR, {user: userId, code: totpCode(secret, daemon.testCore.clock.now())})
    }

    expect((await send('GET', '/v1/orgs/secure', ownerToken)).json).toMatchObject({slug: 'secure', require_2fa: false})
    const set = await send('PATCH', '/v1/orgs/secure', ownerToken, {require_2fa: true})
    expect(set.status).toBe(200)
    expect(set.json).toMatchObject({slug: 'secure', require_2fa: true})
    expect((await send('GET', '/v1/orgs/secure', ownerToken)).json.require_2fa).toBe(true)
    const listed = (await send('GET', '/v1/orgs', ownerToken)).json.orgs as Array<{slug: string; require_2fa: boolean}>
    expect(listed.find((org) => org.slug === 'secure')?.require_2fa).toBe(true)

    const refused = await send('PATCH', '/v1/orgs/secure', memberToken, {require_2fa: false})
    expect({status: refused.status, code: refused.json.error.code}).toEqual({status: 403, code: 'permission.denied'})
    expect((await send('PATCH', '/v1/orgs/secure', ownerToken, {require_2fa: 'yes'})).status).toBe(422)

    const cleared = await send('PATCH', '/v1/orgs/secure', ownerToken, {require_2fa: false})
    expect(cleared.json.require_2fa).toBe(false)
    const events = await core.audit.listEventsAfter({afterSeq: 0, action: 'org.updated'})
    expect(events.map((event) => event.metadata)).toEqual([{changes: {require_2fa: {from: false, to: true}}, members_revoked: 0, sessions_revoked: 0}, {changes: {require_2fa: {from: true, to: false}}}])
  })
})
