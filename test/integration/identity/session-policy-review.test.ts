import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createCore, type Core} from '../../../src/core.js'
import {latestMail, queuedMails, tokenFromMail} from '../../helpers/outbox-mail.js'
import {totpCode} from '../../helpers/rfc6238.js'
import {FAST_PASSWORD_HASHER, OPERATOR, testConfig} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {CONTEXT, createIdentityTestCore, createPasswordUser, expectTokenRefused, followRevocations, loginAs, PASSWORD, uniqueEmail, type IdentityTestCore} from './identity-fixture.js'

/** Turns 2FA on for the user, as an operator enrols them (`user 2fa enroll`). */
async function enableTwoFactor(t: IdentityTestCore, userId: string): Promise<void> {
  const {secret} = await t.core.mfa.setup(OPERATOR, {user: userId})
  await t.core.mfa.enable(OPERATOR, {user: userId, code: totpCode(secret, t.clock.now())})
}

// The policy a login meets (an org's require_2fa, require_verified_email) holds for the
// session's whole life: refresh checks it, and turning require_2fa on revokes what members
// without 2FA hold in the organization.
describeEachDialect('identity: session policy after login (review)', (dialect) => {
  let t: IdentityTestCore
  let orgCounter = 0

  beforeAll(async () => {
    t = await createIdentityTestCore(dialect)
  })
  afterAll(async () => t?.close())

  async function orgWithMembers(prefix: string) {
    const slug = `${prefix}-${++orgCounter}`
    const owner = await createPasswordUser(t.core, OPERATOR, `${prefix}-owner`)
    const member = await createPasswordUser(t.core, OPERATOR, `${prefix}-member`)
    await t.core.orgs.createOrg(OPERATOR, {name: slug, slug, owner: owner.id})
    await t.core.members.addMember(OPERATOR, {org: slug, user: member.id, role: 'member'})
    return {slug, owner, member}
  }

  describe('an organization that requires 2FA', () => {
    it('refuses the refresh of a session bound to it by a user without 2FA (auth.mfa_enrollment_required); it works again once 2FA is on', async () => {
      const {slug, member} = await orgWithMembers('refresh-2fa')
      const {tokens} = await loginAs(t.core, member.email, slug)
      // The organization requires 2FA now, and this session was not revoked (it predates the rule).
      await t.core.database.db.updateTable('organization').set({require_2fa: 1}).where('slug', '=', slug).execute()
      await expect(t.core.sessions.refresh(CONTEXT, {refreshToken: tokens.refreshToken})).rejects.toMatchObject({code: 'auth.mfa_enrollment_required'})
      // The refusal changed nothing: the token was not used up.
      await enableTwoFactor(t, member.id)
      await expect(t.core.sessions.refresh(CONTEXT, {refreshToken: tokens.refreshToken})).resolves.toMatchObject({accessToken: expect.any(String)})
    })

    it('refuses it after 2FA is turned off (an operator’s reset)', async () => {
      const {slug, member} = await orgWithMembers('refresh-2fa-off')
      const {tokens} = await loginAs(t.core, member.email, slug)
      await enableTwoFactor(t, member.id)
      await t.core.orgs.updateOrg(OPERATOR, {org: slug, require2fa: true})
      const refreshed = await t.core.sessions.refresh(CONTEXT, {refreshToken: tokens.refreshToken})
      // A lost device: the operator turns 2FA off.
      await t.core.mfa.resetForUser(OPERATOR, {user: member.id})
      expect(await t.core.mfa.isEnabled(t.core.database.db, member.id)).toBe(false)
      await expect(t.core.sessions.refresh(CONTEXT, {refreshToken: refreshed.refreshToken})).rejects.toMatchObject({code: 'auth.mfa_enrollment_required'})
    })

    it('turning require_2fa on revokes, in its transaction, the org-bound tokens and sessions of members without 2FA; audited with the counts', async () => {
      const {slug, owner, member} = await orgWithMembers('switch-2fa')
      const memberLogin = await loginAs(t.core, member.email, slug)
      const memberElsewhere = await loginAs(t.core, member.email)
      const ownerLogin = await loginAs(t.core, owner.email, slug)
      await enableTwoFactor(t, owner.id)

      const before = await t.core.audit.latestSeq()
      await t.core.orgs.updateOrg(OPERATOR, {org: slug, require2fa: true})
      const [event] = await t.core.audit.listEventsAfter({afterSeq: before, action: 'org.updated'})
      expect(event?.metadata).toEqual({changes: {require_2fa: {from: false, to: true}}, members_revoked: 1, sessions_revoked: 1})

      // The member without 2FA: the access token bound to the org is refused, the session ended.
      await t.follower.syncNow()
      await expectTokenRefused(t.core, memberLogin.tokens.accessToken, /_revoked$/)
      await expect(t.core.sessions.refresh(CONTEXT, {refreshToken: memberLogin.tokens.refreshToken})).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
      // Their session bound elsewhere lives on; switching into the org is refused.
      await expect(t.core.authenticator.authenticate(memberElsewhere.tokens.accessToken)).resolves.toMatchObject({userId: member.id})
      await expect(t.core.sessions.switchOrg(memberElsewhere.auth, CONTEXT, {org: slug})).rejects.toMatchObject({code: 'auth.mfa_enrollment_required'})
      // The owner with 2FA keeps everything.
      await expect(t.core.authenticator.authenticate(ownerLogin.tokens.accessToken)).resolves.toMatchObject({userId: owner.id, orgId: expect.any(String)})
      await expect(t.core.sessions.refresh(CONTEXT, {refreshToken: ownerLogin.tokens.refreshToken})).resolves.toMatchObject({accessToken: expect.any(String)})
    })

    it('turning it off, or on again while on, revokes nothing', async () => {
      const {slug, member} = await orgWithMembers('switch-2fa-off')
      await t.core.orgs.updateOrg(OPERATOR, {org: slug, require2fa: true})
      await t.core.orgs.updateOrg(OPERATOR, {org: slug, require2fa: false})
      const {tokens} = await loginAs(t.core, member.email, slug)
      const before = await t.core.audit.latestSeq()
      await t.core.orgs.updateOrg(OPERATOR, {org: slug, require2fa: false, name: `${slug} renamed`})
      expect((await t.core.audit.listEventsAfter({afterSeq: before, action: 'org.updated'}))[0]?.metadata).toEqual({changes: {name: {from: slug, to: `${slug} renamed`}}})
      await expect(t.core.authenticator.authenticate(tokens.accessToken)).resolves.toMatchObject({userId: member.id})
    })
  })

})

describeEachDialect('identity: require_verified_email beyond login (review)', (dialect) => {
  let t: IdentityTestCore
  /** A second process on the same database with require_verified_email on. */
  let strict: Core
  let stopFollower: () => Promise<void>

  beforeAll(async () => {
    t = await createIdentityTestCore(dialect)
    strict = await createCore({config: testConfig(t.database.url, {requireVerifiedEmail: true}), cwd: process.cwd(), clock: t.clock, passwords: FAST_PASSWORD_HASHER})
    const follower = await followRevocations(strict, strict.revocations, t.clock)
    stopFollower = () => follower.stop()
  })
  afterAll(async () => {
    await stopFollower?.()
    await strict?.close()
    await t?.close()
  })

  it('register creates the account and mails the link, but opens no session and returns no tokens', async () => {
    const email = uniqueEmail('strict-register')
    const registration = await strict.sessions.register(CONTEXT, {email, password: PASSWORD})
    expect(registration).toMatchObject({emailVerificationRequired: true, tokens: null, user: {email}, org: {slug: expect.any(String)}})
    expect(await queuedMails(strict, {to: email, kind: 'verify_email'})).toHaveLength(1)
    expect(await t.core.database.db.selectFrom('session').select('id').where('user_id', '=', registration.user.id).execute()).toEqual([])
    // Once verified, the user logs in.
    await strict.account.verifyEmail(CONTEXT, {token: tokenFromMail(await latestMail(strict, email, 'verify_email'))})
    await expect(strict.sessions.login(CONTEXT, {email, password: PASSWORD})).resolves.toMatchObject({accessToken: expect.any(String)})
  })

  it('without the setting, register still logs in', async () => {
    const registration = await t.core.sessions.register(CONTEXT, {email: uniqueEmail('lax-register'), password: PASSWORD})
    expect(registration.emailVerificationRequired).toBe(false)
    expect(registration.tokens?.accessToken).toEqual(expect.any(String))
  })

  it('refuses the refresh of an unverified account (auth.email_not_verified), also after a change to an unverified address', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'strict-refresh')
    // A session opened while the setting was off.
    const {tokens} = await loginAs(t.core, user.email)
    await expect(strict.sessions.refresh(CONTEXT, {refreshToken: tokens.refreshToken})).rejects.toMatchObject({code: 'auth.email_not_verified'})

    await strict.account.resendVerification({userId: user.id}, CONTEXT)
    await strict.account.verifyEmail(CONTEXT, {token: tokenFromMail(await latestMail(strict, user.email, 'verify_email'))})
    const refreshed = await strict.sessions.refresh(CONTEXT, {refreshToken: tokens.refreshToken})

    const newEmail = uniqueEmail('strict-refresh-new')
    await t.core.users.updateUser(OPERATOR, {user: user.id, email: newEmail})
    // The session lives on through the change, but cannot refresh until the new address is verified.
    await expect(strict.sessions.refresh(CONTEXT, {refreshToken: refreshed.refreshToken})).rejects.toMatchObject({code: 'auth.email_not_verified'})
    await strict.account.verifyEmail(CONTEXT, {token: tokenFromMail(await latestMail(strict, newEmail, 'verify_email'))})
    await expect(strict.sessions.refresh(CONTEXT, {refreshToken: refreshed.refreshToken})).resolves.toMatchObject({accessToken: expect.any(String)})
  })
})
