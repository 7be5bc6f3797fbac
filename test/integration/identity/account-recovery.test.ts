import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {hashToken} from '../../../src/security/secure-token.js'
import {latestMail, queuedMails, tokenFromMail} from '../../helpers/outbox-mail.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {
  auditActionsAfter,
  CONTEXT,
  createIdentityTestCore,
  createPasswordUser,
  expectTokenRefused,
  loginAs,
  PASSWORD,
  SECOND,
  SESSION_OR_USER_REVOKED,
  uniqueEmail,
  type IdentityTestCore,
} from './identity-fixture.js'

const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const NEW_PASSWORD = 'a brand new passphrase'

// Email verification, password reset and email changes as services, on both dialects.
describeEachDialect('identity: verification, reset, email change', (dialect) => {
  let t: IdentityTestCore
  let ipCounter = 0
  /** A client of its own (its own IP), so the per-IP budgets of one test do not touch another's. */
  const freshClient = () => ({...CONTEXT, ip: `198.51.100.${++ipCounter}`})

  beforeAll(async () => {
    t = await createIdentityTestCore(dialect)
  })
  afterAll(async () => t?.close())

  async function register(prefix: string) {
    const email = uniqueEmail(prefix)
    const {user, tokens} = await t.core.sessions.register(CONTEXT, {email, password: PASSWORD})
    return {user, tokens, email}
  }

  async function userRow(userId: string) {
    return t.core.database.db.selectFrom('user_account').selectAll().where('id', '=', userId).executeTakeFirstOrThrow()
  }

  describe('verification at registration', () => {
    it('mails a link under public_url with a 256-bit token stored only hashed, and following it verifies the address once', async () => {
      const {user, tokens, email} = await register('verify')
      expect(user.emailVerifiedAt).toBeNull()
      expect((await t.core.authenticator.authenticate(tokens.accessToken)).emailVerified).toBe(false)

      const mail = await latestMail(t.core, email, 'verify_email')
      expect(mail.links[0]).toMatch(new RegExp(`^${t.core.publicUrl}/verify-email\\?token=`))
      const token = tokenFromMail(mail)
      expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(32)
      const stored = await t.core.database.db.selectFrom('one_time_token').selectAll().where('user_id', '=', user.id).execute()
      expect(stored).toHaveLength(1)
      expect(stored[0]).toMatchObject({purpose: 'verify_email', email, token_hash: hashToken(token), used_at: null})
      expect(JSON.stringify(stored)).not.toContain(token)

      const before = await t.core.audit.latestSeq()
      await expect(t.core.account.verifyEmail(freshClient(), {token})).resolves.toEqual({userId: user.id, email})
      expect((await userRow(user.id)).email_verified_at).toBe(t.clock.now().toISOString())
      expect(await auditActionsAfter(t.core, before)).toEqual(['user.email_verified'])

      // me and a fresh access token say so.
      const {auth} = await loginAs(t.core, email)
      expect(auth.emailVerified).toBe(true)
      expect((await t.core.sessions.me(auth)).emailVerified).toBe(true)

      // Single use.
      await expect(t.core.account.verifyEmail(freshClient(), {token})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
    })

    it('refuses an expired link (the server’s clock decides) with the one answer', async () => {
      const {email, user} = await register('verify-expired')
      const token = tokenFromMail(await latestMail(t.core, email, 'verify_email'))
      t.clock.advance(t.core.config.emailVerificationTtlSeconds * SECOND)
      await expect(t.core.account.verifyEmail(freshClient(), {token})).rejects.toMatchObject({code: 'auth.invalid_link_token', details: undefined})
      expect((await userRow(user.id)).email_verified_at).toBeNull()
    })

    it('counts wrong tokens per IP: after failed_attempts_per_minute, 429 auth.too_many_attempts with retry_after_seconds, also for a right one', async () => {
      const client = freshClient()
      const {email} = await register('verify-budget')
      const token = tokenFromMail(await latestMail(t.core, email, 'verify_email'))
      for (let attempt = 0; attempt < t.core.config.failedAttemptsPerMinute; attempt++) {
        await expect(t.core.account.verifyEmail(client, {token: `wrong-${attempt}`})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
        t.clock.advance(SECOND)
      }
      const refused = await t.core.account.verifyEmail(client, {token}).catch((error: unknown) => error)
      expect(refused).toMatchObject({code: 'auth.too_many_attempts', details: {retry_after_seconds: 60 - t.core.config.failedAttemptsPerMinute}})
      // Another IP is not affected, and the budget refills after a minute.
      await expect(t.core.account.verifyEmail(freshClient(), {token: 'wrong'})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      t.clock.advance(MINUTE)
      await expect(t.core.account.verifyEmail(client, {token})).resolves.toMatchObject({email})
      const outcomes = await t.core.database.db.selectFrom('auth_attempt').select('outcome').where('kind', '=', 'verify_token').where('ip', '=', client.ip).execute()
      expect(outcomes.map((row) => row.outcome).sort()).toEqual([...Array(t.core.config.failedAttemptsPerMinute).fill('failure'), 'success', 'throttled'].sort())
    })

    it('resends on request: earlier links die, at most one a minute and five an hour, never for a verified address', async () => {
      const {email, tokens} = await register('resend')
      const auth = await t.core.authenticator.authenticate(tokens.accessToken)
      const first = tokenFromMail(await latestMail(t.core, email, 'verify_email'))

      await expect(t.core.account.resendVerification(auth, CONTEXT)).resolves.toEqual({email})
      const second = tokenFromMail(await latestMail(t.core, email, 'verify_email'))
      expect(second).not.toBe(first)
      await expect(t.core.account.resendVerification(auth, CONTEXT)).rejects.toMatchObject({code: 'auth.too_many_attempts', details: {retry_after_seconds: 60}})
      for (let sent = 2; sent <= 5; sent++) {
        t.clock.advance(MINUTE)
        await t.core.account.resendVerification(auth, CONTEXT)
      }
      t.clock.advance(MINUTE)
      const hourly = await t.core.account.resendVerification(auth, CONTEXT).catch((error: unknown) => error)
      expect(hourly).toMatchObject({code: 'auth.too_many_attempts'})
      expect((hourly as {details: {retry_after_seconds: number}}).details.retry_after_seconds).toBeGreaterThan(60)
      expect(await queuedMails(t.core, {to: email, kind: 'verify_email'})).toHaveLength(6)

      // Only the newest link works.
      await expect(t.core.account.verifyEmail(freshClient(), {token: first})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      await expect(t.core.account.verifyEmail(freshClient(), {token: second})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      await t.core.account.verifyEmail(freshClient(), {token: tokenFromMail(await latestMail(t.core, email, 'verify_email'))})
      t.clock.advance(HOUR)
      await expect(t.core.account.resendVerification(auth, CONTEXT)).rejects.toMatchObject({code: 'email.already_verified'})
    })
  })

  describe('password reset', () => {
    it('mails a link to a known active address, audited; an unknown one gets the same answer and no mail', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'forgot')
      const before = await t.core.audit.latestSeq()
      await expect(t.core.account.requestPasswordReset(freshClient(), {email: user.email.toUpperCase()})).resolves.toBeUndefined()
      const mail = await latestMail(t.core, user.email, 'password_reset')
      expect(mail.links[0]).toMatch(new RegExp(`^${t.core.publicUrl}/reset-password\\?token=`))
      expect(await auditActionsAfter(t.core, before)).toEqual(['user.password_reset_requested'])

      const unknown = uniqueEmail('nobody')
      const mailsBefore = (await queuedMails(t.core)).length
      const seq = await t.core.audit.latestSeq()
      await expect(t.core.account.requestPasswordReset(freshClient(), {email: unknown})).resolves.toBeUndefined()
      expect((await queuedMails(t.core)).length).toBe(mailsBefore)
      expect(await t.core.audit.latestSeq()).toBe(seq)
      // Both were recorded in the attempt log (hashed identifier, never the address).
      const attempts = await t.core.database.db.selectFrom('auth_attempt').selectAll().where('kind', '=', 'password_forgot').execute()
      expect(JSON.stringify(attempts)).not.toContain(unknown)
      expect(attempts.length).toBeGreaterThanOrEqual(2)
    })

    it('sends at most three mails an hour per account, whatever the IP, and still answers the same', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'forgot-bomb')
      for (let request = 0; request < 6; request++) await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
      expect(await queuedMails(t.core, {to: user.email, kind: 'password_reset'})).toHaveLength(3)
      t.clock.advance(HOUR)
      await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
      expect(await queuedMails(t.core, {to: user.email, kind: 'password_reset'})).toHaveLength(4)
    })

    it('mails nothing for a disabled account', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'forgot-disabled')
      await t.core.users.disableUser(OPERATOR, {user: user.id})
      await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
      expect(await queuedMails(t.core, {to: user.email, kind: 'password_reset'})).toHaveLength(0)
    })

    it('resets once: the new password works, the old does not, every session and access token ends, audited and mailed', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'reset')
      const first = await loginAs(t.core, user.email)
      const second = await loginAs(t.core, user.email)
      await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
      const token = tokenFromMail(await latestMail(t.core, user.email, 'password_reset'))
      t.clock.advance(SECOND)

      // The policy applies, and a refused password leaves the link usable.
      await expect(t.core.account.resetPassword(freshClient(), {token, password: 'password123'})).rejects.toMatchObject({code: 'password.too_weak', details: {rule: 'too_common'}})
      await expect(t.core.account.resetPassword(freshClient(), {token, password: user.email})).rejects.toMatchObject({code: 'password.too_weak', details: {rule: 'equals_email'}})

      const before = await t.core.audit.latestSeq()
      await expect(t.core.account.resetPassword(freshClient(), {token, password: NEW_PASSWORD})).resolves.toEqual({userId: user.id, sessionsRevoked: 2})
      await t.follower.syncNow()
      expect(await auditActionsAfter(t.core, before, 'user.password_reset')).toEqual(['user.password_reset'])
      expect(await auditActionsAfter(t.core, before, 'session.revoked')).toEqual([])
      await expectTokenRefused(t.core, first.tokens.accessToken, SESSION_OR_USER_REVOKED)
      await expectTokenRefused(t.core, second.tokens.accessToken, SESSION_OR_USER_REVOKED)
      await expect(t.core.sessions.refresh(CONTEXT, {refreshToken: first.tokens.refreshToken})).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
      expect(await latestMail(t.core, user.email, 'password_reset_done')).toBeTruthy()

      await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
      t.clock.advance(SECOND)
      await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: NEW_PASSWORD})).resolves.toMatchObject({accessToken: expect.any(String)})

      await expect(t.core.account.resetPassword(freshClient(), {token, password: 'yet another passphrase'})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
    })

    it('refuses a link after an hour, an earlier link once a newer one is sent, and a wrong token, all alike', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'reset-expiry')
      await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
      const older = tokenFromMail(await latestMail(t.core, user.email, 'password_reset'))
      await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
      const newer = tokenFromMail(await latestMail(t.core, user.email, 'password_reset'))
      await expect(t.core.account.resetPassword(freshClient(), {token: older, password: NEW_PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      await expect(t.core.account.resetPassword(freshClient(), {token: 'x'.repeat(43), password: NEW_PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      expect(t.core.config.passwordResetTtlSeconds).toBe(3600)
      t.clock.advance(HOUR)
      await expect(t.core.account.resetPassword(freshClient(), {token: newer, password: NEW_PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
    })

    it('puts wrong reset tokens on the IP’s failure budget', async () => {
      const client = freshClient()
      for (let attempt = 0; attempt < t.core.config.failedAttemptsPerMinute; attempt++) {
        await expect(t.core.account.resetPassword(client, {token: `guess-${attempt}`, password: NEW_PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      }
      await expect(t.core.account.resetPassword(client, {token: 'guess', password: NEW_PASSWORD})).rejects.toMatchObject({code: 'auth.too_many_attempts', details: {retry_after_seconds: 60}})
    })
  })

  describe('email changes', () => {
    it('by an operator: the new address is unverified, gets a verification link, the old one a notice; audited', async () => {
      const {user, email} = await register('op-change')
      await t.core.account.verifyEmail(freshClient(), {token: tokenFromMail(await latestMail(t.core, email, 'verify_email'))})
      const oldLink = tokenFromMail(await latestMail(t.core, email, 'verify_email'))
      const newEmail = uniqueEmail('op-changed')
      const before = await t.core.audit.latestSeq()
      const updated = await t.core.users.updateUser(OPERATOR, {user: user.id, email: newEmail})
      expect(updated).toMatchObject({email: newEmail, emailVerifiedAt: null})
      expect((await userRow(user.id)).email_verified_at).toBeNull()
      expect(await auditActionsAfter(t.core, before)).toEqual(['user.email_changed', 'user.updated'])
      expect(await latestMail(t.core, email, 'email_changed')).toMatchObject({to: email})
      const link = tokenFromMail(await latestMail(t.core, newEmail, 'verify_email'))
      await expect(t.core.account.verifyEmail(freshClient(), {token: oldLink})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      await expect(t.core.account.verifyEmail(freshClient(), {token: link})).resolves.toEqual({userId: user.id, email: newEmail})
    })

    it('voids a verification link sent to the address the account had before', async () => {
      const {user, email} = await register('stale-link')
      const link = tokenFromMail(await latestMail(t.core, email, 'verify_email'))
      // Not voided by a newer link: the address itself changed (e.g. by a direct write).
      await t.core.database.db.updateTable('user_account').set({email: uniqueEmail('moved')}).where('id', '=', user.id).execute()
      await expect(t.core.account.verifyEmail(freshClient(), {token: link})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
      expect((await userRow(user.id)).email_verified_at).toBeNull()
    })

    it('by the user, with their password: the same effects; wrong password and a taken address refused', async () => {
      const {user, email, tokens} = await register('self-change')
      await t.core.account.verifyEmail(freshClient(), {token: tokenFromMail(await latestMail(t.core, email, 'verify_email'))})
      const auth = await t.core.authenticator.authenticate(tokens.accessToken)
      const other = await createPasswordUser(t.core, OPERATOR, 'taken')
      const newEmail = uniqueEmail('self-changed')

      await expect(t.core.account.changeOwnEmail(auth, CONTEXT, {email: newEmail, password: 'not the password'})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
      await expect(t.core.account.changeOwnEmail(auth, CONTEXT, {email: other.email, password: PASSWORD})).rejects.toMatchObject({code: 'user.email_taken'})
      await expect(t.core.account.changeOwnEmail(auth, CONTEXT, {email: 'not an email', password: PASSWORD})).rejects.toMatchObject({code: 'validation.failed'})

      const before = await t.core.audit.latestSeq()
      const changed = await t.core.account.changeOwnEmail(auth, CONTEXT, {email: newEmail.toUpperCase(), password: PASSWORD})
      expect(changed).toMatchObject({id: user.id, email: newEmail, emailVerifiedAt: null})
      expect(await auditActionsAfter(t.core, before)).toEqual(['user.email_changed'])
      expect((await t.core.sessions.me(auth)).emailVerified).toBe(false)
      expect(await latestMail(t.core, newEmail, 'verify_email')).toBeTruthy()
      expect(await latestMail(t.core, email, 'email_changed')).toBeTruthy()
      // The same address again changes nothing.
      const seq = await t.core.audit.latestSeq()
      await t.core.account.changeOwnEmail(auth, CONTEXT, {email: newEmail, password: PASSWORD})
      expect(await t.core.audit.latestSeq()).toBe(seq)
    })

    it('voids pending reset links (they went to the old address)', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'reset-then-move')
      await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
      const token = tokenFromMail(await latestMail(t.core, user.email, 'password_reset'))
      await t.core.users.updateUser(OPERATOR, {user: user.id, email: uniqueEmail('moved-away')})
      await expect(t.core.account.resetPassword(freshClient(), {token, password: NEW_PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_link_token'})
    })
  })

  it('a password longer than 256 set under the former limit still logs in; it cannot be chosen anew', async () => {
    const long = 'x7-'.repeat(200)
    const {user} = await t.core.users.createUser(OPERATOR, {email: uniqueEmail('legacy')}, undefined, await t.core.passwords.hashPassword(long))
    await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: long})).resolves.toMatchObject({accessToken: expect.any(String)})
    await expect(t.core.users.createUser(OPERATOR, {email: uniqueEmail('legacy-new'), password: long})).rejects.toMatchObject({code: 'password.too_weak', details: {rule: 'too_long'}})
  })

  it('deleting a user deletes their links', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'delete-links')
    await t.core.account.requestPasswordReset(freshClient(), {email: user.email})
    await t.core.users.deleteUser(OPERATOR, {user: user.id})
    expect(await t.core.database.db.selectFrom('one_time_token').selectAll().where('user_id', '=', user.id).execute()).toEqual([])
  })
})

describeEachDialect('identity: registration policy', (dialect) => {
  describe.each(['closed', 'invite_only'] as const)('registration %s', (registration) => {
    let t: TestCore
    beforeAll(async () => {
      t = await createTestCore(dialect, {registration})
    })
    afterAll(async () => t?.close())

    it('refuses self-registration with registration.closed and creates nothing; operators still create users', async () => {
      const before = await t.core.audit.latestSeq()
      await expect(t.core.sessions.register(CONTEXT, {email: uniqueEmail('closed'), password: PASSWORD})).rejects.toMatchObject({code: 'registration.closed'})
      expect(await t.core.audit.latestSeq()).toBe(before)
      await expect(t.core.users.createUser(OPERATOR, {email: uniqueEmail('by-operator'), password: PASSWORD})).resolves.toMatchObject({created: true})
    })
  })

  it('is open by default (the suite above registers under it)', async () => {
    const t = await createTestCore(dialect)
    try {
      expect(t.core.config.registration).toBe('open')
    } finally {
      await t.close()
    }
  })
})
