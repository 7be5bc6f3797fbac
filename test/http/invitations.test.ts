import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {latestMail, tokenFromMail} from '../helpers/outbox-mail.js'
import {OPERATOR} from '../helpers/test-core.js'
import {request} from './http-harness.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {camelCaseKeysOf, expectError, PASSWORD, startOrgApi, type OrgApi} from './org-api-fixtures.js'

// Invitations and org limits over HTTP: the org's side under members.invite, the invitee's by
// token (no principal, or an optional access token), 404s across tenants, bad tokens.

describeEachDialect('invitations over HTTP', (dialect) => {
  let api: OrgApi
  beforeAll(async () => {
    api = await startOrgApi(dialect)
  })
  afterAll(async () => api?.close())

  const mailedToken = async (email: string) => tokenFromMail(await latestMail(api.core, email, 'invitation'))
  const roomy = async (label: string) => {
    const seeded = await api.seedOrg(label)
    await api.core.orgLimits.setLimits(OPERATOR, {org: seeded.slug, seats: 50})
    return seeded
  }

  describe("the organization's side", () => {
    it('invite, list, resend, revoke; the link only by mail for tenants, shown to platform principals', async () => {
      const {slug, org, people} = await roomy('http-inv')
      const email = `${api.unique('guest')}@example.com`
      const created = await api.post(`/v1/orgs/${slug}/invitations`, people.admin!.bound, {email, role: 'member'})
      expect(created.status).toBe(201)
      expect(created.json).toMatchObject({invitation: {org_id: org.id, email, role: 'member', status: 'pending', resend_count: 0}, accept_url: null, token: null})
      expect(camelCaseKeysOf(created.json)).toEqual([])
      const id = created.json.invitation.id
      const first = await mailedToken(email)

      const listed = await api.get(`/v1/orgs/${slug}/invitations`, people.member!.bound)
      expect(listed.status).toBe(200)
      expect(listed.json.invitations.map((item: any) => item.id)).toEqual([id])

      // At most one mail a minute per invitation (its creation counts).
      const tooSoon = await api.post(`/v1/orgs/${slug}/invitations/${id}/resend`, people.admin!.bound)
      expectError(tooSoon, 429, 'invitation.resend_too_soon')
      expect(tooSoon.headers.get('retry-after')).toBe('60')
      api.daemon.testCore.clock.advance(60_000)
      const resent = await api.post(`/v1/orgs/${slug}/invitations/${id}/resend`, people.admin!.bound)
      expect(resent.status).toBe(200)
      expect(resent.json.invitation.resend_count).toBe(1)
      const second = await mailedToken(email)
      expect(second).not.toBe(first)
      expectError(await api.get(`/v1/invitations/${first}`), 422, 'auth.invalid_link_token')
      expect((await api.get(`/v1/invitations/${second}`)).status).toBe(200)

      expect((await api.del(`/v1/orgs/${slug}/invitations/${id}`, people.admin!.bound)).status).toBe(204)
      expectError(await api.get(`/v1/invitations/${second}`), 422, 'auth.invalid_link_token')
      expectError(await api.post(`/v1/orgs/${slug}/invitations/${id}/resend`, people.admin!.bound), 409, 'invitation.not_pending')

      const platform = await api.platformAdmin()
      const byPlatform = await api.post(`/v1/orgs/${slug}/invitations`, platform.token, {email: `${api.unique('p')}@example.com`, role: 'viewer'})
      expect(byPlatform.status).toBe(201)
      expect(byPlatform.json.accept_url).toMatch(/\/accept-invitation\?token=/)
      expect(byPlatform.json.token).toEqual(expect.any(String))
    })

    it('a viewer is refused (permission.denied), other tenants get 404 for the org and for invitation ids', async () => {
      const {slug, people} = await roomy('http-inv-deny')
      const other = await roomy('http-inv-other')
      const email = `${api.unique('x')}@example.com`
      expectError(await api.post(`/v1/orgs/${slug}/invitations`, people.viewer!.bound, {email, role: 'viewer'}), 403, 'permission.denied')
      expectError(await api.get(`/v1/orgs/${slug}/invitations`, people.viewer!.bound), 403, 'permission.denied')
      expectError(await api.post(`/v1/orgs/${slug}/invitations`, people.admin!.bound, {email, role: 'admin'}), 403, 'role.grant_forbidden')
      expectError(await api.post(`/v1/orgs/${slug}/invitations`, people.admin!.bound, {email: 'nope', role: 'viewer'}), 422, 'validation.failed')
      const created = await api.post(`/v1/orgs/${slug}/invitations`, people.admin!.bound, {email, role: 'viewer'})
      const id = created.json.invitation.id
      expectError(await api.post(`/v1/orgs/${slug}/invitations`, people.owner!.bound, {email, role: 'viewer'}), 409, 'invitation.exists')
      expectError(await api.get(`/v1/orgs/${slug}/invitations`, other.people.owner!.bound), 404, 'org.not_found')
      expectError(await api.post(`/v1/orgs/${other.slug}/invitations/${id}/resend`, other.people.owner!.bound), 404, 'invitation.not_found')
      expectError(await api.del(`/v1/orgs/${other.slug}/invitations/${id}`, other.people.owner!.bound), 404, 'invitation.not_found')
      expectError(await api.del(`/v1/orgs/${slug}/invitations/no-such-id`, people.owner!.bound), 404, 'invitation.not_found')
      expectError(await api.get(`/v1/orgs/${slug}/invitations`), 401, 'auth.invalid_token')
      expect((await api.core.invitations.listInvitations(OPERATOR, {org: slug})).map((item) => item.id)).toEqual([id])
    })

    it('seats over HTTP: the invitation past the limit is 409 org.seat_limit', async () => {
      const {slug, people} = await api.seedOrg('http-inv-seats')
      await api.post(`/v1/orgs/${slug}/invitations`, people.admin!.bound, {email: `${api.unique('s')}@example.com`, role: 'viewer'})
      expectError(await api.post(`/v1/orgs/${slug}/invitations`, people.admin!.bound, {email: `${api.unique('s')}@example.com`, role: 'viewer'}), 409, 'org.seat_limit')
    })
  })

  describe("the invitee's side", () => {
    it('GET by token shows only org, role, email, inviter and expiry; accept without an account creates it and it can log in', async () => {
      const {slug, org, people} = await roomy('http-accept')
      const email = `${api.unique('new')}@example.com`
      await api.post(`/v1/orgs/${slug}/invitations`, people.owner!.bound, {email, role: 'member'})
      const token = await mailedToken(email)
      const shown = await api.get(`/v1/invitations/${token}`)
      expect(shown.status).toBe(200)
      expect(Object.keys(shown.json).sort()).toEqual(['email', 'expires_at', 'invited_by', 'org', 'role'])
      expect(shown.json).toMatchObject({org: {name: org.name, slug}, role: 'member', email})
      expect(Object.keys(shown.json.org).sort()).toEqual(['name', 'slug'])

      expectError(await api.post(`/v1/invitations/${token}/accept`, undefined, {name: 'New', password: 'short'}), 422, 'password.too_weak')
      const accepted = await api.post(`/v1/invitations/${token}/accept`, undefined, {name: 'New One', password: PASSWORD})
      expect(accepted.status).toBe(200)
      expect(accepted.json).toMatchObject({user: {email, name: 'New One'}, org: {id: org.id}, role: 'member', created_account: true})
      expect(accepted.json.user.email_verified_at).not.toBeNull()
      expect(await api.login(email, slug)).toEqual(expect.any(String))
      expectError(await api.post(`/v1/invitations/${token}/accept`, undefined, {name: 'Again', password: PASSWORD}), 422, 'auth.invalid_link_token')
      // The token travels in the path: the access log names the route pattern, never the token.
      expect(api.daemon.rawLogs()).not.toContain(token)
      expect(api.daemon.rawLogs()).toContain('/v1/invitations/:token/accept')
    })

    it('signed in with an access token: a verified matching email joins; mismatch 403, account not signed in 401, a bad bearer 401', async () => {
      const {slug, people} = await roomy('http-accept-signed')
      const invitee = await api.register('invitee')
      await api.core.database.db.updateTable('user_account').set({email_verified_at: new Date().toISOString()}).where('id', '=', invitee.userId).execute()
      const stranger = await api.register('stranger')
      await api.post(`/v1/orgs/${slug}/invitations`, people.admin!.bound, {email: invitee.email, role: 'viewer'})
      const token = await mailedToken(invitee.email)
      expectError(await api.post(`/v1/invitations/${token}/accept`, stranger.token, {}), 403, 'invitation.email_mismatch')
      expectError(await api.post(`/v1/invitations/${token}/accept`, undefined, {name: 'X', password: PASSWORD}), 401, 'invitation.sign_in_required')
      expectError(await api.post(`/v1/invitations/${token}/accept`, 'not-a-token', {}), 401, 'auth.invalid_token')
      const joined = await api.post(`/v1/invitations/${token}/accept`, invitee.token, {})
      expect(joined.status).toBe(200)
      expect(joined.json).toMatchObject({user: {id: invitee.userId}, role: 'viewer', created_account: false})
      expect(await api.login(invitee.email, slug)).toEqual(expect.any(String))
    })

    it('bad tokens are one answer, counted per IP: past the budget 429 auth.too_many_attempts with Retry-After', async () => {
      let last = await api.get('/v1/invitations/not-a-real-token')
      expectError(last, 422, 'auth.invalid_link_token')
      for (let attempt = 0; attempt < 30 && last.status === 422; attempt += 1) last = await api.post(`/v1/invitations/guess-${attempt}/accept`, undefined, {name: 'G', password: PASSWORD})
      expectError(last, 429, 'auth.too_many_attempts')
      expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0)
      // The budget's minute passes (the daemon's clock is the test's): later tests start afresh.
      api.daemon.testCore.clock.advance(61_000)
    })
  })

  describe('the invitation page the link opens', () => {
    const postForm = (fields: Record<string, string>, headers: Record<string, string> = {}) => request(`${api.daemon.url}/accept-invitation`, {method: 'POST', headers, body: new URLSearchParams(fields)})

    it('shows the invitation and a form that creates the account and joins; mismatched passwords, a weak one, a wrong token and cross-site posts are pages', async () => {
      const {slug, org, people} = await roomy('http-page')
      const email = `${api.unique('page')}@example.com`
      await api.post(`/v1/orgs/${slug}/invitations`, people.admin!.bound, {email, role: 'viewer'})
      const token = await mailedToken(email)
      const shown = await request(`${api.daemon.url}/accept-invitation?token=${encodeURIComponent(token)}`)
      expect(shown.status).toBe(200)
      expect(shown.headers.get('content-type')).toMatch(/^text\/html/)
      expect(shown.headers.get('cache-control')).toBe('no-store')
      expect(shown.headers.get('content-security-policy')).toContain("default-src 'none'")
      expect(shown.text).toContain(org.name)
      expect(shown.text).toContain(email)
      expect(shown.text).not.toContain('<script')

      const mismatch = await postForm({token, name: 'Page User', password: PASSWORD, password_confirmation: `${PASSWORD}!`})
      expect(mismatch.status).toBe(422)
      expect(mismatch.text).toContain('do not match')
      const weak = await postForm({token, name: 'Page User', password: 'short', password_confirmation: 'short'})
      expect(weak.status).toBe(422)
      const crossSite = await postForm({token, name: 'Page User', password: PASSWORD, password_confirmation: PASSWORD}, {'sec-fetch-site': 'cross-site'})
      expect(crossSite.status).toBe(403)
      const joined = await postForm({token, name: 'Page User', password: PASSWORD, password_confirmation: PASSWORD})
      expect(joined.status, joined.text).toBe(200)
      expect(joined.text).toContain(`Welcome to ${org.name}`)
      expect(await api.login(email, slug)).toEqual(expect.any(String))
      const used = await postForm({token, name: 'Page User', password: PASSWORD, password_confirmation: PASSWORD})
      expect(used.status).toBe(422)
      expect(used.text).toContain('does not work')
      expect((await request(`${api.daemon.url}/accept-invitation?token=nope`)).status).toBe(422)
      expect((await request(`${api.daemon.url}/accept-invitation`)).status).toBe(400)
    })

    it('the link opens from a mail: a cross-site GET is the page (the account pages too); a cross-site POST is still refused', async () => {
      const {slug, org, people} = await roomy('http-page-cross')
      const email = `${api.unique('cross')}@example.com`
      await api.post(`/v1/orgs/${slug}/invitations`, people.admin!.bound, {email, role: 'viewer'})
      const token = await mailedToken(email)
      const fromWebmail = {'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document'}
      const shown = await request(`${api.daemon.url}/accept-invitation?token=${encodeURIComponent(token)}`, {headers: fromWebmail})
      expect(shown.status, shown.text).toBe(200)
      expect(shown.text).toContain(org.name)
      for (const page of ['/verify-email?token=x', '/reset-password?token=x', '/forgot-password']) {
        expect((await request(`${api.daemon.url}${page}`, {headers: fromWebmail})).status, page).toBe(200)
      }
      const crossPost = await postForm({token, name: 'Cross', password: PASSWORD, password_confirmation: PASSWORD}, {'sec-fetch-site': 'cross-site'})
      expect(crossPost.status).toBe(403)
      const sameSite = await postForm({token, name: 'Cross', password: PASSWORD, password_confirmation: PASSWORD}, {'sec-fetch-site': 'same-site'})
      expect(sameSite.status).toBe(403)
      // Nothing was accepted: the link still opens.
      expect((await request(`${api.daemon.url}/accept-invitation?token=${encodeURIComponent(token)}`, {headers: fromWebmail})).status).toBe(200)
    })

    it('an address with an account is told to sign in', async () => {
      const {slug, people} = await roomy('http-page-known')
      const known = await api.register('page-known')
      await api.post(`/v1/orgs/${slug}/invitations`, people.admin!.bound, {email: known.email, role: 'viewer'})
      const token = await mailedToken(known.email)
      const refused = await postForm({token, name: 'Known', password: PASSWORD, password_confirmation: PASSWORD})
      expect(refused.status).toBe(401)
      expect(refused.text).toContain('already have an account')
    })
  })

  describe('org limits', () => {
    it('members read the limits; only platform principals change them (audited)', async () => {
      const {slug, people} = await api.seedOrg('http-limits')
      const shown = await api.get(`/v1/orgs/${slug}/limits`, people.viewer!.bound)
      expect(shown.status).toBe(200)
      expect(shown.json).toMatchObject({org: slug, tier: 'free', effective: {seats: 5}, overrides: {seats: null, rpm: null}, seats_used: {members: 4, pending_invitations: 0, total: 4}})
      expectError(await api.patch(`/v1/orgs/${slug}/limits`, people.owner!.bound, {seats: 100}), 403, 'platform.required')
      const platform = await api.platformAdmin()
      const changed = await api.patch(`/v1/orgs/${slug}/limits`, platform.token, {seats: 'unlimited', rpm: 1000})
      expect(changed.status).toBe(200)
      expect(changed.json).toMatchObject({effective: {seats: null, rpm: 1000}, overrides: {seats: 'unlimited', rpm: 1000}})
      expectError(await api.patch(`/v1/orgs/${slug}/limits`, platform.token, {seats: -1}), 422, 'validation.failed')
      // Only a JSON integer, a string of digits or "unlimited": "" is not 0 (a lock-out), "0x10" not 16.
      for (const rpm of ['', ' ', false, [], '0x10', '1e3', 2.5]) expectError(await api.patch(`/v1/orgs/${slug}/limits`, platform.token, {rpm}), 422, 'validation.failed')
      expect((await api.patch(`/v1/orgs/${slug}/limits`, platform.token, {rpm: '1200'})).json.overrides.rpm).toBe(1200)
      const cleared = await api.patch(`/v1/orgs/${slug}/limits`, platform.token, {seats: null, rpm: null})
      expect(cleared.json.overrides).toEqual({seats: null, rpm: null})
      const orgId = (await api.core.orgs.showOrg(OPERATOR, {org: slug})).id
      expect(await api.core.audit.listEvents({orgId, action: 'org.limits_updated'}, 10)).toHaveLength(3)
      expectError(await api.get(`/v1/orgs/${slug}/limits`, (await api.register('limits-outsider')).token), 404, 'org.not_found')
    })
  })
})
