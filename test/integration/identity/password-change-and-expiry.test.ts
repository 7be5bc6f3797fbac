import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {OPERATOR} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {
  ACCESS_TOKEN_TTL_MS,
  auditActionsAfter,
  CONTEXT,
  createIdentityTestCore,
  createPasswordUser,
  expectTokenRefused,
  loginAs,
  PASSWORD,
  SECOND,
  SESSION_OR_USER_REVOKED,
  type IdentityTestCore,
} from './identity-fixture.js'

describeEachDialect('identity: password change and token expiry', (dialect) => {
  let t: IdentityTestCore
  beforeAll(async () => {
    t = await createIdentityTestCore(dialect)
  })
  afterAll(async () => t?.close())

  const refresh = (refreshToken: string) => t.core.sessions.refresh(CONTEXT, {refreshToken})

  async function liveSessionIds(userId: string): Promise<string[]> {
    return (await t.core.sessions.listSessions(OPERATOR, {user: userId})).map((session) => session.id)
  }

  describe('changePassword', () => {
    it('ends every session, voids every older access token, and only the new password logs in', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'change')
      const first = await loginAs(t.core, user.email)
      const second = await loginAs(t.core, user.email)
      t.clock.advance(SECOND)
      const before = await t.core.audit.latestSeq()

      const fresh = await t.core.sessions.changePassword(first.auth, CONTEXT, {currentPassword: PASSWORD, newPassword: 'a brand new passphrase'})
      await t.follower.syncNow()

      expect(fresh.sessionId).not.toBe(first.tokens.sessionId)
      await expectTokenRefused(t.core, first.tokens.accessToken, SESSION_OR_USER_REVOKED)
      await expectTokenRefused(t.core, second.tokens.accessToken, SESSION_OR_USER_REVOKED)
      await expect(refresh(first.tokens.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
      await expect(refresh(second.tokens.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
      expect(await liveSessionIds(user.id)).toEqual([fresh.sessionId])
      expect(await auditActionsAfter(t.core, before, 'user.password_changed')).toEqual(['user.password_changed'])

      await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
      t.clock.advance(SECOND)
      const withNew = await t.core.sessions.login(CONTEXT, {email: user.email, password: 'a brand new passphrase'})
      expect(await t.core.authenticator.authenticate(withNew.accessToken)).toMatchObject({userId: user.id})
    })

    it('returns tokens that work, whatever the millisecond of the change', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'change-tokens')
      const {auth} = await loginAs(t.core, user.email)
      // A real clock is almost never on a whole second.
      t.clock.advance(1500)
      try {
        const fresh = await t.core.sessions.changePassword(auth, CONTEXT, {currentPassword: PASSWORD, newPassword: 'a brand new passphrase'})
        await t.follower.syncNow()
        await expect(refresh(fresh.refreshToken)).resolves.toMatchObject({sessionId: fresh.sessionId})
        expect(await t.core.authenticator.authenticate(fresh.accessToken)).toMatchObject({userId: user.id, sessionId: fresh.sessionId})
      } finally {
        t.clock.advance(500)
      }
    })

    it('keeps the organization binding of the caller in the new tokens', async () => {
      const {user, org, tokens} = await t.core.sessions.register(CONTEXT, {email: 'change-bound@example.com', password: PASSWORD})
      const auth = await t.core.authenticator.authenticate(tokens.accessToken)
      t.clock.advance(SECOND)
      const fresh = await t.core.sessions.changePassword(auth, CONTEXT, {currentPassword: PASSWORD, newPassword: 'a brand new passphrase'})
      expect(await t.core.sessions.listSessions(OPERATOR, {user: user.id})).toEqual([expect.objectContaining({id: fresh.sessionId, orgId: org.id})])
      // Refreshed in a later second than the change, so this test does not depend on how a
      // token issued in the same second as the change is treated.
      t.clock.advance(SECOND)
      const refreshed = await refresh(fresh.refreshToken)
      await t.follower.syncNow()
      expect(await t.core.authenticator.authenticate(refreshed.accessToken)).toMatchObject({orgId: org.id, role: 'owner'})
    })

    it('refuses a wrong current password with auth.invalid_credentials and changes nothing', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'change-wrong')
      const {tokens, auth} = await loginAs(t.core, user.email)
      const before = await t.core.audit.latestSeq()
      await expect(t.core.sessions.changePassword(auth, CONTEXT, {currentPassword: 'not the password', newPassword: 'a brand new passphrase'})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
      // Nothing changed; the wrong password is recorded as a failed login of the account (a
      // password typed again is guarded like a login), and that is all the audit log gained.
      expect(await auditActionsAfter(t.core, before)).toEqual(['security.login_failed'])
      expect(await liveSessionIds(user.id)).toEqual([tokens.sessionId])
      await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).resolves.toMatchObject({tokenType: 'Bearer'})
    })
  })

  describe('access token expiry', () => {
    it('refuses an access token past its lifetime with auth.invalid_token, reason expired', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'expiry')
      const {tokens} = await loginAs(t.core, user.email)
      t.clock.advance(ACCESS_TOKEN_TTL_MS - SECOND)
      expect(await t.core.authenticator.authenticate(tokens.accessToken)).toMatchObject({userId: user.id})
      t.clock.advance(2 * SECOND)
      await expectTokenRefused(t.core, tokens.accessToken, 'expired')
      // The session lives on: the refresh token gets a fresh access token.
      const refreshed = await refresh(tokens.refreshToken)
      expect(await t.core.authenticator.authenticate(refreshed.accessToken)).toMatchObject({sessionId: tokens.sessionId})
    })

    it('refuses garbage with auth.invalid_token, reason malformed', async () => {
      await expectTokenRefused(t.core, 'not.a.jwt', 'malformed')
      await expectTokenRefused(t.core, '', 'malformed')
    })
  })
})
