import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {latestMail, tokenFromMail} from '../helpers/outbox-mail.js'
import {OPERATOR} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// The policy a login meets holds over HTTP for the session's life: an org's require_2fa on
// refresh (/v1/auth/refresh and the OAuth refresh grant) and on tokens already out when it is
// turned on; require_verified_email on register and refresh.

const PASSWORD = 'correct horse battery staple'
const JSON_HEADERS = {'content-type': 'application/json'}

let counter = 0
const uniqueEmail = (prefix: string) => `${prefix}-${++counter}@example.com`

function post(daemon: TestDaemon, path: string, body: unknown, token?: string) {
  return request(`${daemon.url}${path}`, {method: 'POST', headers: {...JSON_HEADERS, ...(token ? {authorization: `Bearer ${token}`} : {})}, body: JSON.stringify(body)})
}

async function login(daemon: TestDaemon, email: string, org?: string): Promise<{access_token: string; refresh_token: string}> {
  const response = await post(daemon, '/v1/auth/login', {email, password: PASSWORD, ...(org ? {org} : {})})
  expect(response.status).toBe(200)
  return response.json
}

describeEachDialect('HTTP: an org’s require_2fa holds on existing sessions (review)', (dialect) => {
  let daemon: TestDaemon
  beforeAll(async () => {
    daemon = await startTestDaemon(dialect)
  })
  afterAll(async () => daemon?.close())

  async function orgWithMember(slug: string) {
    const {core} = daemon.testCore
    const member = (await core.users.createUser(OPERATOR, {email: uniqueEmail(`${slug}-member`), password: PASSWORD})).user
    await core.orgs.createOrg(OPERATOR, {name: slug, slug})
    await core.members.addMember(OPERATOR, {org: slug, user: member.id, role: 'admin'})
    return member
  }

  it('turning require_2fa on (PATCH by an operator’s service call) refuses the old access token on an org route, and the session cannot refresh', async () => {
    const member = await orgWithMember('secure-switch')
    const tokens = await login(daemon, member.email, 'secure-switch')
    const show = () => request(`${daemon.url}/v1/orgs/secure-switch`, {headers: {authorization: `Bearer ${tokens.access_token}`}})
    expect((await show()).status).toBe(200)

    await daemon.testCore.core.orgs.updateOrg(OPERATOR, {org: 'secure-switch', require2fa: true})
    const refused = await show()
    expect({status: refused.status, code: refused.json.error.code}).toEqual({status: 401, code: 'auth.invalid_token'})
    const refresh = await post(daemon, '/v1/auth/refresh', {refresh_token: tokens.refresh_token})
    expect(refresh.status).toBe(401)
    // Logging in to it again is refused until 2FA is on.
    const again = await post(daemon, '/v1/auth/login', {email: member.email, password: PASSWORD, org: 'secure-switch'})
    expect({status: again.status, code: again.json.error.code}).toEqual({status: 403, code: 'auth.mfa_enrollment_required'})
  })

  it('refuses the refresh of a session bound to an org that requires 2FA, by a user without it: 403 auth.mfa_enrollment_required, invalid_grant on the OAuth endpoint', async () => {
    const member = await orgWithMember('secure-refresh')
    const tokens = await login(daemon, member.email, 'secure-refresh')
    // The session predates the rule (not revoked: e.g. the user turned 2FA off since).
    await daemon.testCore.core.database.db.updateTable('organization').set({require_2fa: 1}).where('slug', '=', 'secure-refresh').execute()
    const refresh = await post(daemon, '/v1/auth/refresh', {refresh_token: tokens.refresh_token})
    expect({status: refresh.status, code: refresh.json.error.code}).toEqual({status: 403, code: 'auth.mfa_enrollment_required'})
    const grant = await request(`${daemon.url}/v1/oauth/token`, {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({grant_type: 'refresh_token', refresh_token: tokens.refresh_token}).toString(),
    })
    expect({status: grant.status, error: grant.json.error}).toEqual({status: 400, error: 'invalid_grant'})
  })
})

describeEachDialect('HTTP: require_verified_email beyond login (review)', (dialect) => {
  let daemon: TestDaemon
  beforeAll(async () => {
    daemon = await startTestDaemon(dialect, {settings: {requireVerifiedEmail: true}})
  })
  afterAll(async () => daemon?.close())

  describe('register', () => {
    it('answers 201 {user, org, email_verification_required: true} without tokens, and mails the link; login works once verified', async () => {
      const email = uniqueEmail('strict-register')
      const response = await post(daemon, '/v1/auth/register', {email, password: PASSWORD})
      expect(response.status).toBe(201)
      expect(response.json).toMatchObject({user: {email}, org: {slug: expect.any(String)}, email_verification_required: true})
      expect(response.json).not.toHaveProperty('access_token')
      expect(response.json).not.toHaveProperty('refresh_token')
      expect((await post(daemon, '/v1/auth/login', {email, password: PASSWORD})).json.error.code).toBe('auth.email_not_verified')

      const token = tokenFromMail(await latestMail(daemon.testCore.core, email, 'verify_email'))
      expect((await post(daemon, '/v1/auth/verify-email', {token})).status).toBeLessThan(300)
      expect((await post(daemon, '/v1/auth/login', {email, password: PASSWORD})).status).toBe(200)
    })
  })

  it('refuses the refresh of an unverified account: 403 auth.email_not_verified', async () => {
    const {core} = daemon.testCore
    const user = (await core.users.createUser(OPERATOR, {email: uniqueEmail('strict-refresh'), password: PASSWORD})).user
    // Verified to log in, then the address changes to one not verified yet.
    await core.database.db.updateTable('user_account').set({email_verified_at: new Date().toISOString()}).where('id', '=', user.id).execute()
    const tokens = await login(daemon, user.email)
    await core.users.updateUser(OPERATOR, {user: user.id, email: uniqueEmail('strict-refresh-new')})
    const refresh = await post(daemon, '/v1/auth/refresh', {refresh_token: tokens.refresh_token})
    expect({status: refresh.status, code: refresh.json.error.code}).toEqual({status: 403, code: 'auth.email_not_verified'})
  })
})
