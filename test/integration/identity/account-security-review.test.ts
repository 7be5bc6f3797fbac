import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {latestMail, queuedMails, tokenFromMail} from '../../helpers/outbox-mail.js'
import {OPERATOR} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {CONTEXT, createIdentityTestCore, createPasswordUser, PASSWORD, SECOND, type IdentityTestCore} from './identity-fixture.js'

const NEW_PASSWORD = 'a brand new passphrase'

// Holes the security review found in the mail flows (reset and verification), as services.
describeEachDialect('identity: mail limits, reset links and unlock by reset (review)', (dialect) => {
  let t: IdentityTestCore
  let ipCounter = 0
  /** A client of its own (its own IP), so the per-IP budgets of one test do not touch another's. */
  const freshClient = () => ({...CONTEXT, ip: `198.51.100.${++ipCounter}`})

  beforeAll(async () => {
    // A lock after three failures; a minute's budget wide enough to reach it from one IP.
    t = await createIdentityTestCore(dialect, {lockoutThreshold: 3, failedAttemptsPerMinute: 50})
  })
  afterAll(async () => t?.close())

  describe('mail limits hold under concurrency', () => {
    it('30 concurrent forgot requests for one account (from many IPs) queue at most 3 reset mails', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'forgot-race')
      await Promise.all(Array.from({length: 30}, () => t.core.account.requestPasswordReset(freshClient(), {email: user.email})))
      expect(await queuedMails(t.core, {to: user.email, kind: 'password_reset'})).toHaveLength(3)
      const attempts = await t.core.database.db.selectFrom('auth_attempt').select('outcome').where('kind', '=', 'password_forgot').where('user_id', '=', user.id).execute()
      expect(attempts.filter((attempt) => attempt.outcome === 'success')).toHaveLength(3)
      expect(attempts.filter((attempt) => attempt.outcome === 'throttled')).toHaveLength(27)
    })

    it('30 concurrent forgot requests from one IP for 30 accounts queue at most 20 reset mails (the per-IP limit)', async () => {
      const users = await Promise.all(Array.from({length: 30}, (_, index) => createPasswordUser(t.core, OPERATOR, `forgot-ip-${index}`)))
      const client = freshClient()
      await Promise.all(users.map((user) => t.core.account.requestPasswordReset(client, {email: user.email})))
      const mails = await queuedMails(t.core, {kind: 'password_reset'})
      const emails = new Set(users.map((user) => user.email.toLowerCase()))
      expect(mails.filter((mail) => emails.has(mail.to))).toHaveLength(20)
    })

    it('20 concurrent verification resends queue at most 1 mail; the others are 429 auth.too_many_attempts', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'resend-race')
      const before = (await queuedMails(t.core, {to: user.email, kind: 'verify_email'})).length
      const caller = {userId: user.id, sessionId: 'session-of-test', orgId: null}
      const results = await Promise.allSettled(Array.from({length: 20}, () => t.core.account.resendVerification(caller, freshClient())))
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      for (const result of results) if (result.status === 'rejected') expect(result.reason).toMatchObject({code: 'auth.too_many_attempts'})
      expect(await queuedMails(t.core, {to: user.email, kind: 'verify_email'})).toHaveLength(before + 1)
    })
  })

  describe('a request that sends nothing', () => {
    it('leaves the live reset link working (over the limit, nothing is voided)', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'forgot-keep')
      for (let request = 0; request < 3; request++) await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
      const token = tokenFromMail(await latestMail(t.core, user.email, 'password_reset'))
      // Anyone who knows the address asks again: nothing is sent, and the link still works.
      await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
      expect(await queuedMails(t.core, {to: user.email, kind: 'password_reset'})).toHaveLength(3)
      await expect(t.core.account.resetPassword(freshClient(), {token, password: NEW_PASSWORD})).resolves.toMatchObject({userId: user.id})
    })

    it('a request that sends a new link still voids the older one', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'forgot-replace')
      await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
      const first = tokenFromMail(await latestMail(t.core, user.email, 'password_reset'))
      await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
      await expect(t.core.account.resetPassword(freshClient(), {token: first, password: NEW_PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      const second = tokenFromMail(await latestMail(t.core, user.email, 'password_reset'))
      await expect(t.core.account.resetPassword(freshClient(), {token: second, password: NEW_PASSWORD})).resolves.toMatchObject({userId: user.id})
    })
  })

  describe('reset of a locked account', () => {
    it('clears the lock: login with the new password works at once; audited security.account_unlocked by password_reset', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'reset-unlock')
      const attacker = freshClient()
      for (let failure = 0; failure < 3; failure++) {
        await expect(t.core.sessions.login(attacker, {email: user.email, password: 'not the password'})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
      }
      await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).rejects.toMatchObject({code: 'auth.too_many_attempts'})

      await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
      const token = tokenFromMail(await latestMail(t.core, user.email, 'password_reset'))
      const before = await t.core.audit.latestSeq()
      await t.core.account.resetPassword(freshClient(), {token, password: NEW_PASSWORD})
      const [unlocked] = await t.core.audit.listEventsAfter({afterSeq: before, action: 'security.account_unlocked'})
      expect(unlocked).toMatchObject({target: {type: 'user', id: user.id}, metadata: {by: 'password_reset', was_locked: true}})

      await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: NEW_PASSWORD})).resolves.toMatchObject({accessToken: expect.any(String)})
    })

    it('a reset of an account that is not locked audits no unlock', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'reset-no-lock')
      await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
      const token = tokenFromMail(await latestMail(t.core, user.email, 'password_reset'))
      const before = await t.core.audit.latestSeq()
      await t.core.account.resetPassword(freshClient(), {token, password: NEW_PASSWORD})
      expect(await t.core.audit.listEventsAfter({afterSeq: before, action: 'security.account_unlocked'})).toEqual([])
    })
  })

  describe('audit', () => {
    it('user.password_reset_requested is by an anonymous actor with the request origin, not by the target user', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'forgot-actor')
      const client = freshClient()
      const before = await t.core.audit.latestSeq()
      await t.core.account.requestPasswordReset(client, {email: user.email})
      const [event] = await t.core.audit.listEventsAfter({afterSeq: before, action: 'user.password_reset_requested'})
      expect(event).toMatchObject({actor: {type: 'system', name: 'anonymous'}, ip: client.ip, target: {type: 'user', id: user.id}})
      expect(JSON.stringify(event?.actor)).not.toContain(user.id)
    })

    it('a verification resend is audited user.email_verification_sent (by the user); a throttled one is not', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'resend-audit')
      const before = await t.core.audit.latestSeq()
      await t.core.account.resendVerification({userId: user.id, sessionId: 'session-of-test', orgId: null}, CONTEXT)
      await expect(t.core.account.resendVerification({userId: user.id}, CONTEXT)).rejects.toMatchObject({code: 'auth.too_many_attempts'})
      const events = await t.core.audit.listEventsAfter({afterSeq: before, action: 'user.email_verification_sent'})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({target: {type: 'user', id: user.id}, metadata: {email: user.email}, ip: CONTEXT.ip})
      t.clock.advance(61 * SECOND)
    })
  })
})
