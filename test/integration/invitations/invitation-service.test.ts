import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {hashToken} from '../../../src/security/secure-token.js'
import {latestMail, queuedMails, tokenFromMail} from '../../helpers/outbox-mail.js'
import {createCore} from '../../../src/core.js'
import {createTestCore, FAST_PASSWORD_HASHER, OPERATOR, testConfig, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {createInvitationFixtures, ORIGIN, PASSWORD} from './invitation-fixtures.js'

const DAY = 86_400_000

describeEachDialect('invitations', (dialect) => {
  let t: TestCore
  const f = createInvitationFixtures(() => t)
  beforeAll(async () => {
    t = await createTestCore(dialect, {publicUrl: 'https://app.example.com/base', failedAttemptsPerMinute: 5})
  })
  afterAll(async () => t?.close())

  /** An org with an owner, admin, member and viewer, and room for 50 seats. */
  async function seeded(slug: string) {
    const seed = await f.seedOrg(slug, {owner: 'owner', admin: 'admin', member: 'member', viewer: 'viewer'})
    await t.core.orgLimits.setLimits(OPERATOR, {org: slug, seats: 50})
    return seed
  }
  const invitationRow = (id: string) => t.core.database.db.selectFrom('invitation').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

  describe('invite, list, the mail', () => {
    it('mails an accept link under public_url, stores only the token hash, audits, lists it; the link is shown to operators only', async () => {
      const {org, as} = await seeded('inv-basic')
      const address = f.email('ada')
      const before = await t.core.audit.latestSeq()
      const byAdmin = await t.core.invitations.invite(as('admin'), {org: org.slug, email: `  ${address.toUpperCase()} `, role: 'member'})
      expect(byAdmin.invitation).toMatchObject({orgId: org.id, email: address, role: 'member', status: 'pending', invitedBy: {type: 'user'}})
      expect(byAdmin.invitation.expiresAt).toBe(new Date(t.clock.now().getTime() + 7 * DAY).toISOString())
      expect(byAdmin.token).toBeNull()
      expect(byAdmin.acceptUrl).toBeNull()
      const mail = await latestMail(t.core, address, 'invitation')
      expect(mail.links[0]).toMatch(/^https:\/\/app\.example\.com\/base\/accept-invitation\?token=/)
      const token = tokenFromMail(mail)
      expect(token.length).toBeGreaterThanOrEqual(43)
      const row = await invitationRow(byAdmin.invitation.id)
      expect(row.token_hash).toBe(hashToken(token))
      expect(JSON.stringify(row)).not.toContain(token)
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events.map((event) => event.action)).toEqual(['invitation.created'])
      expect(JSON.stringify(events)).not.toContain(token)

      const byOperator = await t.core.invitations.invite(OPERATOR, {org: org.slug, email: f.email('bob'), role: 'viewer'})
      expect(byOperator.acceptUrl).toMatch(/accept-invitation\?token=/)
      expect(hashToken(byOperator.token!)).toBe((await invitationRow(byOperator.invitation.id)).token_hash)

      const listed = await t.core.invitations.listInvitations(as('member'), {org: org.slug})
      expect(listed.map((invitation) => invitation.email)).toEqual([address, byOperator.invitation.email])
      expect(JSON.stringify(listed)).not.toMatch(/token/i)
    })

    it('the role must exist in the org and be grantable by the inviter; viewers may not invite; other tenants see no org', async () => {
      const {org, as} = await seeded('inv-rules')
      const other = await seeded('inv-rules-other')
      await expect(t.core.invitations.invite(as('admin'), {org: org.slug, email: f.email('x'), role: 'admin'})).rejects.toMatchObject({code: 'role.grant_forbidden'})
      await expect(t.core.invitations.invite(as('member'), {org: org.slug, email: f.email('x'), role: 'member'})).rejects.toMatchObject({code: 'role.grant_forbidden'})
      await expect(t.core.invitations.invite(as('admin'), {org: org.slug, email: f.email('x'), role: 'superuser'})).rejects.toMatchObject({code: 'role.not_found'})
      await expect(t.core.invitations.invite(as('viewer'), {org: org.slug, email: f.email('x'), role: 'viewer'})).rejects.toMatchObject({code: 'permission.denied'})
      await expect(t.core.invitations.listInvitations(as('viewer'), {org: org.slug})).rejects.toMatchObject({code: 'permission.denied'})
      await expect(t.core.invitations.invite(other.as('owner'), {org: org.slug, email: f.email('x'), role: 'viewer'})).rejects.toMatchObject({code: 'org.not_found'})
      await t.core.roles.createRole(OPERATOR, {org: other.org.slug, key: 'billing', name: 'Billing', permissions: ['org.read']})
      await expect(t.core.invitations.invite(as('owner'), {org: org.slug, email: f.email('x'), role: 'billing'})).rejects.toMatchObject({code: 'role.not_found'})
      expect((await t.core.invitations.invite(as('member'), {org: org.slug, email: f.email('x'), role: 'viewer'})).invitation.role).toBe('viewer')
      expect((await t.core.invitations.invite(as('owner'), {org: org.slug, email: f.email('x'), role: 'owner'})).invitation.role).toBe('owner')
      await expect(t.core.invitations.invite(as('owner'), {org: org.slug, email: 'not an email', role: 'viewer'})).rejects.toMatchObject({code: 'validation.failed'})
    })

    it('refuses members (member.exists) and a second pending invitation of an address (invitation.exists), writing nothing', async () => {
      const {org, as, users} = await seeded('inv-dupes')
      const address = f.email('dup')
      await t.core.invitations.invite(as('admin'), {org: org.slug, email: address, role: 'viewer'})
      const mailsBefore = (await queuedMails(t.core)).length
      const seq = await t.core.audit.latestSeq()
      await expect(t.core.invitations.invite(as('admin'), {org: org.slug, email: users.viewer!.email, role: 'viewer'})).rejects.toMatchObject({code: 'member.exists'})
      await expect(t.core.invitations.invite(as('owner'), {org: org.slug, email: address.toUpperCase(), role: 'member'})).rejects.toMatchObject({code: 'invitation.exists'})
      expect((await queuedMails(t.core)).length).toBe(mailsBefore)
      expect(await t.core.audit.latestSeq()).toBe(seq)
      // The database holds the rule too: a second pending row for the address is refused.
      const row = (await t.core.database.db.selectFrom('invitation').selectAll().where('org_id', '=', org.id).where('email', '=', address).executeTakeFirstOrThrow())
      await expect(t.core.database.db.insertInto('invitation').values({...row, id: 'dup-row', token_hash: 'other-hash'}).execute()).rejects.toThrow()
    })
  })

  describe('the invitee: show and accept', () => {
    it('shows org, role, email, inviter and expiry, nothing else; a wrong token is auth.invalid_link_token, counted per IP', async () => {
      const {org, as, users} = await seeded('inv-show')
      const address = f.email('eve')
      const {mailedToken} = await f.invite(as('admin'), org.slug, address, 'viewer')
      const preview = await t.core.invitations.showInvitation(ORIGIN, mailedToken)
      expect(preview).toEqual({org: {name: org.name, slug: org.slug}, role: 'viewer', email: address, invitedBy: users.admin!.name, expiresAt: expect.any(String)})
      const origin = {ip: '10.9.9.9'}
      for (let attempt = 0; attempt < 5; attempt += 1) {
        await expect(t.core.invitations.showInvitation(origin, `${mailedToken}x${attempt}`)).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      }
      // The budget is spent: even the right token waits (the guess cannot be told from it).
      await expect(t.core.invitations.showInvitation(origin, mailedToken)).rejects.toMatchObject({code: 'auth.too_many_attempts'})
      await expect(t.core.invitations.acceptInvitation(origin, 'x'.repeat(43), {name: 'E', password: PASSWORD})).rejects.toMatchObject({code: 'auth.too_many_attempts'})
      expect(await t.core.invitations.showInvitation(ORIGIN, mailedToken)).toMatchObject({email: address})
    })

    it('without an account, {name, password} creates it, verified by the acceptance, and joins with the role; once', async () => {
      const {org, as} = await seeded('inv-new')
      const address = f.email('newbie')
      const {invitation, mailedToken} = await f.invite(as('admin'), org.slug, address, 'member')
      await expect(t.core.invitations.acceptInvitation(ORIGIN, mailedToken, {name: 'Newbie', password: 'short'})).rejects.toMatchObject({code: 'password.too_weak'})
      await expect(t.core.invitations.acceptInvitation(ORIGIN, mailedToken, {password: PASSWORD})).rejects.toMatchObject({code: 'validation.failed'})
      const seq = await t.core.audit.latestSeq()
      const accepted = await t.core.invitations.acceptInvitation(ORIGIN, mailedToken, {name: 'Newbie', password: PASSWORD})
      expect(accepted).toMatchObject({user: {email: address, name: 'Newbie'}, org: {id: org.id}, role: 'member', createdAccount: true})
      expect(accepted.user.emailVerifiedAt).toBe(t.clock.now().toISOString())
      expect(await f.membersOf(org.slug)).toContain(address)
      expect((await t.core.audit.listEventsAfter({afterSeq: seq})).map((event) => event.action)).toEqual(['user.created', 'invitation.accepted', 'member.added'])
      await t.core.signingKeys.ensureActiveKey(OPERATOR)
      const login = await t.core.sessions.login({ip: '10.0.0.1'}, {email: address, password: PASSWORD, org: org.slug})
      expect(login.accessToken).toEqual(expect.any(String))
      expect(await invitationRow(invitation.id)).toMatchObject({status: 'accepted', accepted_user_id: accepted.user.id})
      await expect(t.core.invitations.acceptInvitation(ORIGIN, mailedToken, {name: 'Again', password: PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      await expect(t.core.invitations.showInvitation(ORIGIN, mailedToken)).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      expect(await t.core.invitations.listInvitations(OPERATOR, {org: org.slug})).toEqual([])
    })

    it('a signed-in user joins when their verified email is the invited one; mismatch, unverified and an account not signed in are refused', async () => {
      const {org, as} = await seeded('inv-signed')
      const address = f.email('known')
      const known = await f.verifiedUser(address)
      const stranger = await f.verifiedUser(f.email('stranger'))
      const {mailedToken} = await f.invite(as('admin'), org.slug, address, 'viewer')
      await expect(t.core.invitations.acceptInvitation(ORIGIN, mailedToken, {principal: stranger.actor.principal})).rejects.toMatchObject({code: 'invitation.email_mismatch'})
      await expect(t.core.invitations.acceptInvitation(ORIGIN, mailedToken, {name: 'Known', password: PASSWORD})).rejects.toMatchObject({code: 'invitation.sign_in_required'})
      await t.core.database.db.updateTable('user_account').set({email_verified_at: null}).where('id', '=', known.id).execute()
      await expect(t.core.invitations.acceptInvitation(ORIGIN, mailedToken, {principal: known.actor.principal})).rejects.toMatchObject({code: 'auth.email_not_verified'})
      await t.core.database.db.updateTable('user_account').set({email_verified_at: t.clock.now().toISOString()}).where('id', '=', known.id).execute()
      const accepted = await t.core.invitations.acceptInvitation(ORIGIN, mailedToken, {principal: known.actor.principal})
      expect(accepted).toMatchObject({user: {id: known.id}, role: 'viewer', createdAccount: false})
      expect(await f.membersOf(org.slug)).toContain(address)
    })

    it('registration=closed refuses creating an account by invitation; invite_only allows it', async () => {
      const {org, as} = await seeded('inv-policy')
      const address = f.email('policy')
      const {mailedToken} = await f.invite(as('owner'), org.slug, address, 'member')
      const closed = await createTestCoreOn(t, 'closed')
      try {
        await expect(closed.invitations.acceptInvitation(ORIGIN, mailedToken, {name: 'P', password: PASSWORD})).rejects.toMatchObject({code: 'registration.closed'})
      } finally {
        await closed.close()
      }
      const inviteOnly = await createTestCoreOn(t, 'invite_only')
      try {
        await expect(inviteOnly.sessions.register({ip: '10.0.0.1'}, {email: f.email('self'), password: PASSWORD})).rejects.toMatchObject({code: 'registration.closed'})
        expect(await inviteOnly.invitations.acceptInvitation(ORIGIN, mailedToken, {name: 'P', password: PASSWORD})).toMatchObject({createdAccount: true})
      } finally {
        await inviteOnly.close()
      }
    })
  })

  describe('expiry, resend, revoke', () => {
    it('expires after invitation_ttl_seconds by the server clock: not listed, not accepted; a new invitation replaces it', async () => {
      const {org, as} = await seeded('inv-expiry')
      const address = f.email('late')
      const {invitation, mailedToken} = await f.invite(as('admin'), org.slug, address, 'viewer')
      t.clock.advance(7 * DAY - 1000)
      expect((await t.core.invitations.listInvitations(OPERATOR, {org: org.slug})).map((item) => item.id)).toEqual([invitation.id])
      t.clock.advance(1000)
      expect(await t.core.invitations.listInvitations(OPERATOR, {org: org.slug})).toEqual([])
      await expect(t.core.invitations.showInvitation(ORIGIN, mailedToken)).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      await expect(t.core.invitations.acceptInvitation(ORIGIN, mailedToken, {name: 'Late', password: PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      const again = await f.invite(as('admin'), org.slug, address, 'member')
      expect(await invitationRow(invitation.id)).toMatchObject({status: 'expired'})
      expect(await t.core.invitations.acceptInvitation(ORIGIN, again.mailedToken, {name: 'Late', password: PASSWORD})).toMatchObject({role: 'member'})
    })

    it('resend: a new token (the old one dies), the expiry starts again, a new mail, audited; works on an expired one', async () => {
      const {org, as} = await seeded('inv-resend')
      const address = f.email('resend')
      const {invitation, mailedToken: first} = await f.invite(as('admin'), org.slug, address, 'viewer')
      t.clock.advance(3 * DAY)
      const seq = await t.core.audit.latestSeq()
      const resent = await t.core.invitations.resendInvitation(as('admin'), {org: org.slug, id: invitation.id})
      expect(resent.invitation).toMatchObject({id: invitation.id, resendCount: 1, expiresAt: new Date(t.clock.now().getTime() + 7 * DAY).toISOString()})
      const second = tokenFromMail(await latestMail(t.core, address, 'invitation'))
      expect(second).not.toBe(first)
      expect((await queuedMails(t.core, {to: address, kind: 'invitation'})).length).toBe(2)
      expect((await t.core.audit.listEventsAfter({afterSeq: seq})).map((event) => event.action)).toEqual(['invitation.resent'])
      await expect(t.core.invitations.showInvitation(ORIGIN, first)).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      expect(await t.core.invitations.showInvitation(ORIGIN, second)).toMatchObject({email: address})
      // Past its (new) expiry, a resend brings it back.
      t.clock.advance(8 * DAY)
      const third = await t.core.invitations.resendInvitation(OPERATOR, {id: invitation.id})
      expect(third.invitation.status).toBe('pending')
      expect(await t.core.invitations.acceptInvitation(ORIGIN, third.token!, {name: 'R', password: PASSWORD})).toMatchObject({role: 'viewer'})
      await expect(t.core.invitations.resendInvitation(OPERATOR, {id: invitation.id})).rejects.toMatchObject({code: 'invitation.not_pending'})
      // An address that joined by another way since (after its invitation expired) is not invited again.
      const direct = await f.invite(as('admin'), org.slug, f.email('direct'), 'viewer')
      t.clock.advance(8 * DAY)
      const {user} = await t.core.users.createUser(OPERATOR, {email: direct.invitation.email})
      await t.core.members.addMember(OPERATOR, {org: org.slug, user: user.id, role: 'viewer'})
      await expect(t.core.invitations.resendInvitation(as('admin'), {org: org.slug, id: direct.invitation.id})).rejects.toMatchObject({code: 'member.exists'})
    })

    it('revoke: the link dies, audited; a revoked one cannot be resent; ids of another org are not found', async () => {
      const {org, as} = await seeded('inv-revoke')
      const other = await seeded('inv-revoke-other')
      const address = f.email('gone')
      const {invitation, mailedToken} = await f.invite(as('owner'), org.slug, address, 'admin')
      await expect(t.core.invitations.revokeInvitation(as('admin'), {org: org.slug, id: invitation.id})).rejects.toMatchObject({code: 'role.grant_forbidden'})
      await expect(t.core.invitations.revokeInvitation(other.as('owner'), {org: other.org.slug, id: invitation.id})).rejects.toMatchObject({code: 'invitation.not_found'})
      await expect(t.core.invitations.revokeInvitation(other.as('owner'), {id: invitation.id})).rejects.toMatchObject({code: 'invitation.not_found'})
      await expect(t.core.invitations.resendInvitation(other.as('owner'), {org: other.org.slug, id: invitation.id})).rejects.toMatchObject({code: 'invitation.not_found'})
      const seq = await t.core.audit.latestSeq()
      const revoked = await t.core.invitations.revokeInvitation(as('owner'), {org: org.slug, id: invitation.id})
      expect(revoked).toMatchObject({status: 'revoked', revokedAt: t.clock.now().toISOString()})
      expect((await t.core.audit.listEventsAfter({afterSeq: seq})).map((event) => event.action)).toEqual(['invitation.revoked'])
      expect(await t.core.invitations.revokeInvitation(OPERATOR, {id: invitation.id})).toMatchObject({status: 'revoked'})
      expect(await t.core.audit.latestSeq()).toBe(seq + 1)
      await expect(t.core.invitations.acceptInvitation(ORIGIN, mailedToken, {name: 'G', password: PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      await expect(t.core.invitations.resendInvitation(as('owner'), {org: org.slug, id: invitation.id})).rejects.toMatchObject({code: 'invitation.not_pending'})
    })
  })

  describe('races', () => {
    it('two concurrent accepts of one invitation (two cores, new account) make exactly one account and one membership', async () => {
      const {org, as} = await seeded('inv-race-new')
      const address = f.email('racer')
      const {mailedToken} = await f.invite(as('admin'), org.slug, address, 'member')
      const second = await f.secondCore()
      try {
        // An IP of its own: the refusal is the race's, not a failure budget spent by other tests.
        const origin = {ip: '10.7.7.7'}
        const results = await Promise.allSettled([
          t.core.invitations.acceptInvitation(origin, mailedToken, {name: 'One', password: PASSWORD}),
          second.invitations.acceptInvitation(origin, mailedToken, {name: 'Two', password: PASSWORD}),
        ])
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
        const refused = results.find((result) => result.status === 'rejected') as PromiseRejectedResult
        expect(['auth.invalid_link_token', 'user.email_taken']).toContain(refused.reason.code)
      } finally {
        await second.close()
      }
      const members = await t.core.database.db.selectFrom('membership').innerJoin('user_account', 'user_account.id', 'membership.user_id').select('user_account.email').where('membership.org_id', '=', org.id).where('user_account.email', '=', address).execute()
      expect(members).toHaveLength(1)
    })

    it('two concurrent accepts by the signed-in invitee (one core) make one membership', async () => {
      const {org, as} = await seeded('inv-race-known')
      const address = f.email('twice')
      const known = await f.verifiedUser(address)
      const {mailedToken} = await f.invite(as('admin'), org.slug, address, 'viewer')
      const origin = {ip: '10.7.7.8'}
      const results = await Promise.allSettled([
        t.core.invitations.acceptInvitation(origin, mailedToken, {principal: known.actor.principal}),
        t.core.invitations.acceptInvitation(origin, mailedToken, {principal: known.actor.principal}),
      ])
      expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected'])
      expect((results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason.code).toBe('auth.invalid_link_token')
      const count = await t.core.database.db.selectFrom('membership').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', org.id).where('user_id', '=', known.id).executeTakeFirstOrThrow()
      expect(Number(count.n)).toBe(1)
    })
  })

  describe('mail flooding: the resend cooldown and the daily cap', () => {
    const mailsTo = async (address: string) => (await queuedMails(t.core, {to: address, kind: 'invitation'})).length

    it('a tenant resends one invitation at most once a minute (its creation counts): 429 invitation.resend_too_soon with retry_after_seconds; nothing written', async () => {
      const {org, as} = await seeded('inv-cooldown')
      const address = f.email('cool')
      const {invitation} = await f.invite(as('admin'), org.slug, address, 'viewer')
      const seq = await t.core.audit.latestSeq()
      await expect(t.core.invitations.resendInvitation(as('admin'), {org: org.slug, id: invitation.id})).rejects.toMatchObject({code: 'invitation.resend_too_soon', details: {retry_after_seconds: 60}})
      t.clock.advance(45_000)
      await expect(t.core.invitations.resendInvitation(as('owner'), {org: org.slug, id: invitation.id})).rejects.toMatchObject({code: 'invitation.resend_too_soon', details: {retry_after_seconds: 15}})
      expect(await t.core.audit.latestSeq()).toBe(seq)
      expect(await mailsTo(address)).toBe(1)
      t.clock.advance(15_000)
      expect((await t.core.invitations.resendInvitation(as('admin'), {org: org.slug, id: invitation.id})).invitation.resendCount).toBe(1)
      await expect(t.core.invitations.resendInvitation(as('admin'), {org: org.slug, id: invitation.id})).rejects.toMatchObject({code: 'invitation.resend_too_soon'})
      // Operators are trusted: no cooldown.
      expect((await t.core.invitations.resendInvitation(OPERATOR, {org: org.slug, id: invitation.id})).invitation.resendCount).toBe(2)
      expect(await mailsTo(address)).toBe(3)
    })

    it('concurrent resends of one invitation (two cores) mail it once; the others are invitation.resend_too_soon', async () => {
      const {org, as} = await seeded('inv-cooldown-race')
      const address = f.email('cool-race')
      const {invitation} = await f.invite(as('admin'), org.slug, address, 'viewer')
      t.clock.advance(61_000)
      const second = await f.secondCore()
      try {
        const results = await Promise.allSettled(Array.from({length: 6}, (_, index) => (index % 2 === 0 ? t.core : second).invitations.resendInvitation(as('admin'), {org: org.slug, id: invitation.id})))
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
        expect(results.filter((result) => result.status === 'rejected').map((result) => (result as PromiseRejectedResult).reason.code)).toEqual(Array(5).fill('invitation.resend_too_soon'))
      } finally {
        await second.close()
      }
      expect(await mailsTo(address)).toBe(2)
      expect((await invitationRow(invitation.id)).resend_count).toBe(1)
    })

    it('an org mails at most invitation_mails_per_day invitations (created plus resent) per 24 h: 429 invitation.daily_limit; invite→revoke→invite loops count; operators are not held to it', async () => {
      const capped = await coreWith(t, {invitationMailsPerDay: 3})
      try {
        const {org, as} = await seeded('inv-daily')
        const a = f.email('day-a')
        const b = f.email('day-b')
        const first = await capped.invitations.invite(as('admin'), {org: org.slug, email: a, role: 'viewer'})
        t.clock.advance(3_600_000)
        const created = await capped.invitations.invite(as('admin'), {org: org.slug, email: b, role: 'viewer'})
        t.clock.advance(60_000)
        await capped.invitations.resendInvitation(as('admin'), {org: org.slug, id: first.invitation.id})
        const seq = await t.core.audit.latestSeq()
        const mails = (await queuedMails(t.core)).length
        // The window's oldest mail (the first invite) leaves it 24 h after it was sent.
        const retryAfter = (24 * 3_600_000 - 3_660_000) / 1000
        await expect(capped.invitations.invite(as('admin'), {org: org.slug, email: f.email('day-c'), role: 'viewer'})).rejects.toMatchObject({code: 'invitation.daily_limit', details: {limit: 3, retry_after_seconds: retryAfter}})
        // Revoking does not give the mail back: re-inviting the address is refused too, and so is a resend.
        await capped.invitations.revokeInvitation(as('admin'), {org: org.slug, id: created.invitation.id})
        await expect(capped.invitations.invite(as('owner'), {org: org.slug, email: b, role: 'viewer'})).rejects.toMatchObject({code: 'invitation.daily_limit'})
        t.clock.advance(60_000)
        await expect(capped.invitations.resendInvitation(as('admin'), {org: org.slug, id: first.invitation.id})).rejects.toMatchObject({code: 'invitation.daily_limit'})
        // An org API key is a tenant principal too.
        const key = await capped.apiKeys.createApiKey(OPERATOR, {org: org.slug, name: 'inviter', role: 'admin'})
        const keyActor = {principal: await capped.bearer.authenticate(key.secret), origin: {}}
        await expect(capped.invitations.invite(keyActor, {org: org.slug, email: f.email('day-k'), role: 'viewer'})).rejects.toMatchObject({code: 'invitation.daily_limit'})
        expect((await t.core.audit.latestSeq()) - seq).toBe(2) // the revoke and the key, no invitation event
        expect((await queuedMails(t.core)).length).toBe(mails)
        // Operators are trusted; their mails count.
        await capped.invitations.invite(OPERATOR, {org: org.slug, email: b, role: 'viewer'})
        // Another org has its own count.
        const other = await seeded('inv-daily-other')
        await capped.invitations.invite(other.as('admin'), {org: other.org.slug, email: f.email('day-o'), role: 'viewer'})
        // 24 h after the first invite it leaves the window, but the operator's mail took its place.
        t.clock.advance(retryAfter * 1000 - 60_000)
        await expect(capped.invitations.invite(as('admin'), {org: org.slug, email: f.email('day-d'), role: 'viewer'})).rejects.toMatchObject({code: 'invitation.daily_limit'})
        // An hour later the second invite leaves it too: one more mail.
        t.clock.advance(3_600_000)
        await capped.invitations.invite(as('admin'), {org: org.slug, email: f.email('day-d'), role: 'viewer'})
        await expect(capped.invitations.invite(as('admin'), {org: org.slug, email: f.email('day-e'), role: 'viewer'})).rejects.toMatchObject({code: 'invitation.daily_limit'})
      } finally {
        await capped.close()
      }
    })

    it('concurrent invites (two cores) never overshoot the daily cap', async () => {
      const capped = await coreWith(t, {invitationMailsPerDay: 3})
      const cappedToo = await coreWith(t, {invitationMailsPerDay: 3})
      try {
        const {org, as} = await seeded('inv-daily-race')
        const results = await Promise.allSettled(
          Array.from({length: 8}, (_, index) => (index % 2 === 0 ? capped : cappedToo).invitations.invite(as(index % 4 < 2 ? 'admin' : 'owner'), {org: org.slug, email: f.email(`race-${index}`), role: 'viewer'})),
        )
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3)
        expect(results.filter((result) => result.status === 'rejected').map((result) => (result as PromiseRejectedResult).reason.code)).toEqual(Array(5).fill('invitation.daily_limit'))
        expect(await t.core.invitations.listInvitations(OPERATOR, {org: org.slug})).toHaveLength(3)
      } finally {
        await capped.close()
        await cappedToo.close()
      }
    })
  })

  describe('acceptance refusals write nothing', () => {
    it('a custom role deleted while the acceptance runs: the one invalid-link answer, the invitation still pending, no account, no membership', async () => {
      const {org, as} = await seeded('inv-role-gone')
      await t.core.roles.createRole(OPERATOR, {org: org.slug, key: 'temp', name: 'Temp', permissions: ['members.read']})
      const address = f.email('role-gone')
      const {invitation, mailedToken} = await f.invite(as('owner'), org.slug, address, 'temp')
      expect(await t.core.invitations.showInvitation(ORIGIN, mailedToken)).toMatchObject({role: 'temp'})
      // The role goes between the link check and the acceptance's transaction (while the password is hashed).
      const racing = await coreWith(t, {}, {
        ...FAST_PASSWORD_HASHER,
        async hashPassword(password: string) {
          await t.core.roles.deleteRole(OPERATOR, {org: org.slug, role: 'temp'})
          return FAST_PASSWORD_HASHER.hashPassword(password)
        },
      })
      try {
        await expect(racing.invitations.acceptInvitation({ip: '10.7.7.20'}, mailedToken, {name: 'Gone', password: PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      } finally {
        await racing.close()
      }
      expect(await invitationRow(invitation.id)).toMatchObject({status: 'pending', accepted_at: null, accepted_user_id: null})
      expect(await t.core.database.db.selectFrom('user_account').select('id').where('email', '=', address).execute()).toEqual([])
      expect(await f.membersOf(org.slug)).not.toContain(address)
    })

    it('concurrent accepts of one link when it takes the last seat: the loser gets the invalid-link answer, not org.seat_limit', async () => {
      const {org, as} = await seeded('inv-last-seat')
      const address = f.email('last-seat')
      const known = await f.verifiedUser(address)
      const {mailedToken} = await f.invite(as('admin'), org.slug, address, 'viewer')
      // 4 members + this invitation: the acceptance fills the org.
      await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: 5})
      const origin = {ip: '10.7.7.21'}
      const results = await Promise.allSettled([
        t.core.invitations.acceptInvitation(origin, mailedToken, {principal: known.actor.principal}),
        t.core.invitations.acceptInvitation(origin, mailedToken, {principal: known.actor.principal}),
      ])
      expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected'])
      expect((results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason.code).toBe('auth.invalid_link_token')
      expect(await f.membersOf(org.slug)).toContain(address)
    })

    it("a refused acceptance for want of a seat tells the invitee none of the org's counts, and leaves the invitation pending", async () => {
      const {org, as} = await seeded('inv-no-seat')
      const address = f.email('no-seat')
      const {invitation, mailedToken} = await f.invite(as('admin'), org.slug, address, 'viewer')
      await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: 4})
      const refused = await t.core.invitations.acceptInvitation({ip: '10.7.7.22'}, mailedToken, {name: 'No Seat', password: PASSWORD}).catch((error: unknown) => error)
      expect(refused).toMatchObject({code: 'org.seat_limit'})
      expect((refused as {details?: unknown}).details).toBeUndefined()
      // The signed-in invitee is no member either.
      const knownAddress = f.email('no-seat-known')
      const known = await f.verifiedUser(knownAddress)
      await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: 10})
      const forKnown = await f.invite(as('admin'), org.slug, knownAddress, 'viewer')
      await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: 4})
      const refusedKnown = await t.core.invitations.acceptInvitation({ip: '10.7.7.22'}, forKnown.mailedToken, {principal: known.actor.principal}).catch((error: unknown) => error)
      expect(refusedKnown).toMatchObject({code: 'org.seat_limit'})
      expect((refusedKnown as {details?: unknown}).details).toBeUndefined()
      // Those who manage the org still see the counts.
      await expect(t.core.invitations.invite(as('admin'), {org: org.slug, email: f.email('no-seat-more'), role: 'viewer'})).rejects.toMatchObject({code: 'org.seat_limit', details: {limit: 4, members: 4, pending_invitations: 2}})
      expect(await invitationRow(invitation.id)).toMatchObject({status: 'pending', accepted_at: null})
      expect(await f.membersOf(org.slug)).not.toContain(address)
    })
  })

  describe('purges', () => {
    it("an org's purge deletes its invitations; a user's deletion cuts them out of the invitations they sent", async () => {
      const {org, as, users} = await seeded('inv-purge')
      const {invitation} = await f.invite(as('admin'), org.slug, f.email('p'), 'viewer')
      await t.core.members.removeMember(OPERATOR, {org: org.slug, user: users.admin!.id})
      await t.core.users.deleteUser(OPERATOR, {user: users.admin!.id})
      expect(await invitationRow(invitation.id)).toMatchObject({invited_by_id: null, invited_by_name: null, status: 'pending'})
      await t.core.orgs.deleteOrg(OPERATOR, {org: org.slug})
      const {removed} = await t.core.orgs.purgeOrg(OPERATOR, {org: org.slug})
      expect(removed).toMatchObject({invitations: 1})
      expect(await t.core.database.db.selectFrom('invitation').select('id').where('org_id', '=', org.id).execute()).toEqual([])
    })
  })
})

/** Another core on the test's database (another process, as far as the database can tell) with these settings, and this password hasher. */
async function coreWith(t: TestCore, settings: Record<string, unknown>, passwords?: Parameters<typeof createCore>[0]['passwords']) {
  const {failedAttemptsPerMinute, publicUrl, registration} = t.core.config
  return createCore({config: testConfig(t.database.url, {failedAttemptsPerMinute, publicUrl, registration, ...settings}), cwd: process.cwd(), clock: t.clock, passwords: passwords ?? FAST_PASSWORD_HASHER})
}

/** Another core on the test's database with another `registration` setting. */
async function createTestCoreOn(t: TestCore, registration: string) {
  const {createCore} = await import('../../../src/core.js')
  const {testConfig, FAST_PASSWORD_HASHER} = await import('../../helpers/test-core.js')
  return createCore({config: testConfig(t.database.url, {registration}), cwd: process.cwd(), clock: t.clock, passwords: FAST_PASSWORD_HASHER})
}
