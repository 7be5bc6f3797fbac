import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createRevocationCache} from '../../../src/identity/revocation-cache.js'
import {loadActiveRevocations} from '../../../src/identity/revocation-log.js'
import {ISSUED_AT_LEEWAY_SECONDS} from '../../../src/security/access-tokens.js'
import {OPERATOR} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {
  ACCESS_TOKEN_TTL_MS,
  CONTEXT,
  createIdentityTestCore,
  createPasswordUser,
  expectTokenRefused,
  followRevocations,
  loginAs,
  openSecondProcess,
  PASSWORD,
  SECOND,
  SESSION_OR_USER_REVOKED,
  uniqueEmail,
  type IdentityTestCore,
  type SecondProcess,
} from './identity-fixture.js'

// A revocation entry outlives every token accepted now: a lifetime, plus the leeway an iat may lie ahead.
const REVOCATION_KEPT_MS = ACCESS_TOKEN_TTL_MS + ISSUED_AT_LEEWAY_SECONDS * SECOND

// Two cores on one database stand for two daemons (or a daemon and the CLI): a revocation
// written by one reaches the other only through the revocation log.
describeEachDialect('identity: revocation across processes', (dialect) => {
  let t: IdentityTestCore
  let other: SecondProcess
  beforeAll(async () => {
    t = await createIdentityTestCore(dialect)
    other = await openSecondProcess(t)
  })
  afterAll(async () => {
    await other?.close()
    await t?.close()
  })

  /** Logs in on this core and checks the other process accepts the token first. */
  async function loginSeenElsewhere(email: string) {
    const login = await loginAs(t.core, email)
    expect(await other.core.authenticator.authenticate(login.tokens.accessToken)).toMatchObject({sessionId: login.tokens.sessionId})
    return login
  }

  describe('user disable and delete', () => {
    it('disabling a user in one process voids their tokens in another once it synced', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'disabled')
      const first = await loginSeenElsewhere(user.email)
      const second = await loginSeenElsewhere(user.email)

      await t.core.users.disableUser(OPERATOR, {user: user.email})
      await other.follower.syncNow()

      await expectTokenRefused(other.core, first.tokens.accessToken, SESSION_OR_USER_REVOKED)
      await expectTokenRefused(other.core, second.tokens.accessToken, SESSION_OR_USER_REVOKED)
      await expect(other.core.sessions.refresh(CONTEXT, {refreshToken: first.tokens.refreshToken})).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
      await expect(other.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).rejects.toMatchObject({code: 'user.disabled'})
      expect(await other.core.sessions.listSessions(OPERATOR, {user: user.id})).toEqual([])
      const [event] = await t.core.audit.listEvents({action: 'user.disabled'}, 1)
      expect(event).toMatchObject({target: {type: 'user', id: user.id}, metadata: {sessions_revoked: 2}})
    })

    it('deleting a user in one process voids their tokens in another once it synced', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'deleted')
      const login = await loginSeenElsewhere(user.email)

      await other.core.users.deleteUser(OPERATOR, {user: user.id})
      await t.follower.syncNow()

      await expectTokenRefused(t.core, login.tokens.accessToken, SESSION_OR_USER_REVOKED)
      await expect(t.core.sessions.refresh(CONTEXT, {refreshToken: login.tokens.refreshToken})).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
      await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
      const sessions = await t.core.database.db.selectFrom('session').select('id').where('user_id', '=', user.id).execute()
      expect(sessions).toEqual([])
    })

    it('a process learns of a revocation only from the log, when it syncs', async () => {
      // The cache is the only thing consulted on the hot path: it is the log that carries revocations.
      const user = await createPasswordUser(t.core, OPERATOR, 'unsynced')
      const login = await loginSeenElsewhere(user.email)
      const isolated = createRevocationCache(t.clock)
      const follower = await followRevocations(t.core, isolated, t.clock)
      try {
        await follower.stop()
        await t.core.sessions.logout(login.auth, CONTEXT)
        expect(isolated.findRevocation({jti: login.auth.jti, sid: login.auth.sessionId, sub: user.id, iat: login.auth.issuedAt})).toBeNull()
        await follower.syncNow()
        expect(isolated.findRevocation({jti: login.auth.jti, sid: login.auth.sessionId, sub: user.id, iat: login.auth.issuedAt})).toBe('session_revoked')
      } finally {
        await follower.stop()
      }
    })
  })

  describe('logout and session revocation', () => {
    it('a logout in one process is refused in the other once it synced', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'logout-elsewhere')
      const login = await loginSeenElsewhere(user.email)
      await t.core.sessions.logout(login.auth, CONTEXT)
      await other.follower.syncNow()
      await expectTokenRefused(other.core, login.tokens.accessToken, 'session_revoked')
    })

    it('a session revoked by the operator (the CLI) is refused in a running process once it synced', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'cli-revoke')
      const login = await loginSeenElsewhere(user.email)
      await other.core.sessions.revokeSession(OPERATOR, {session: login.tokens.sessionId})
      await t.follower.syncNow()
      await expectTokenRefused(t.core, login.tokens.accessToken, 'session_revoked')
    })

    it('refresh-token reuse detected in one process revokes the session in the other', async () => {
      const {tokens} = await t.core.sessions.register(CONTEXT, {email: uniqueEmail('reuse-elsewhere'), password: PASSWORD})
      await other.core.sessions.refresh(CONTEXT, {refreshToken: tokens.refreshToken})
      await expect(other.core.sessions.refresh(CONTEXT, {refreshToken: tokens.refreshToken})).rejects.toMatchObject({code: 'auth.refresh_token_reused'})
      await t.follower.syncNow()
      await expectTokenRefused(t.core, tokens.accessToken, 'session_revoked')
    })
  })

  describe('the revocation follower', () => {
    it('applies entries appended by another process in order, on syncNow', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'follow')
      const logins = [await loginSeenElsewhere(user.email), await loginSeenElsewhere(user.email)]
      const cache = createRevocationCache(t.clock)
      const follower = await followRevocations(other.core, cache, t.clock)
      try {
        const startedAt = follower.appliedSeq()
        for (const login of logins) await t.core.sessions.logout(login.auth, CONTEXT)
        await follower.syncNow()
        expect(follower.appliedSeq()).toBe(startedAt + 2)
        for (const login of logins) expect(cache.findRevocation({jti: login.auth.jti, sid: login.auth.sessionId, sub: user.id, iat: login.auth.issuedAt})).toBe('session_revoked')
        // Concurrent syncs share one read and change nothing more.
        await Promise.all([follower.syncNow(), follower.syncNow()])
        expect(follower.appliedSeq()).toBe(startedAt + 2)
      } finally {
        await follower.stop()
      }
    })

    it('follows by itself within a few poll intervals', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'poll')
      const login = await loginSeenElsewhere(user.email)
      await t.core.sessions.logout(login.auth, CONTEXT)
      await expect.poll(async () => other.core.authenticator.authenticate(login.tokens.accessToken).then(() => 'accepted', (error) => error.details?.reason), {timeout: 2000, interval: 20}).toBe('session_revoked')
    })

    it('loads only revocations still in force at start', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'load')
      const stale = await loginSeenElsewhere(user.email)
      const live = await loginSeenElsewhere(user.email)
      await t.core.sessions.logout(stale.auth, CONTEXT)
      t.clock.advance(REVOCATION_KEPT_MS + SECOND)
      const current = await loginAs(t.core, user.email)
      await t.core.sessions.logout(live.auth, CONTEXT)
      await t.core.sessions.logout(current.auth, CONTEXT)

      const {entries, latestSeq} = await loadActiveRevocations(t.core.database.db, t.clock.now().toISOString())
      const subjects = entries.map((entry) => entry.subject)
      expect(subjects).not.toContain(stale.tokens.sessionId)
      expect(subjects).toEqual(expect.arrayContaining([live.tokens.sessionId, current.tokens.sessionId]))
      expect(entries.every((entry) => entry.expiresAt > t.clock.now().toISOString())).toBe(true)

      const cache = createRevocationCache(t.clock)
      const follower = await followRevocations(other.core, cache, t.clock)
      try {
        expect(follower.appliedSeq()).toBe(latestSeq)
        expect(cache.findRevocation({jti: 'stale-jti', sid: stale.tokens.sessionId, sub: user.id, iat: stale.auth.issuedAt})).toBeNull()
        expect(cache.findRevocation({jti: 'live-jti', sid: live.tokens.sessionId, sub: user.id, iat: live.auth.issuedAt})).toBe('session_revoked')
        expect(cache.findRevocation({jti: 'current-jti', sid: current.tokens.sessionId, sub: user.id, iat: current.auth.issuedAt})).toBe('session_revoked')
      } finally {
        await follower.stop()
      }
    })
  })
})
