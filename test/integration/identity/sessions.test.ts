import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Actor} from '../../../src/access/principal.js'
import type {User} from '../../../src/identity/user-repo.js'
import {OPERATOR} from '../../helpers/test-core.js'
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
  type IdentityTestCore,
} from './identity-fixture.js'

describeEachDialect('identity: sessions, logout and password change', (dialect) => {
  let t: IdentityTestCore
  beforeAll(async () => {
    t = await createIdentityTestCore(dialect)
  })
  afterAll(async () => t?.close())

  const refresh = (refreshToken: string) => t.core.sessions.refresh(CONTEXT, {refreshToken})
  const userActor = (user: User): Actor => ({principal: {kind: 'user', userId: user.id, sessionId: '', boundOrgId: null, email: user.email}, origin: {}})

  async function liveSessionIds(userId: string): Promise<string[]> {
    return (await t.core.sessions.listSessions(OPERATOR, {user: userId})).map((session) => session.id)
  }

  async function sessionRow(sessionId: string) {
    return t.core.database.db.selectFrom('session').select(['revoked_at', 'revoked_reason']).where('id', '=', sessionId).executeTakeFirstOrThrow()
  }

  describe('logout', () => {
    it('ends this session only: its access token is refused once synced and its refresh token is dead', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'logout')
      const mine = await loginAs(t.core, user.email)
      const other = await loginAs(t.core, user.email)
      const before = await t.core.audit.latestSeq()

      await t.core.sessions.logout(mine.auth, CONTEXT)
      await t.follower.syncNow()

      await expectTokenRefused(t.core, mine.tokens.accessToken, 'session_revoked')
      await expect(refresh(mine.tokens.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
      expect(await sessionRow(mine.tokens.sessionId)).toMatchObject({revoked_at: t.clock.now().toISOString(), revoked_reason: 'logout'})
      expect(await liveSessionIds(user.id)).toEqual([other.tokens.sessionId])
      expect(await t.core.authenticator.authenticate(other.tokens.accessToken)).toMatchObject({sessionId: other.tokens.sessionId})
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toEqual([expect.objectContaining({action: 'session.revoked', target: {type: 'session', id: mine.tokens.sessionId}, metadata: {reason: 'logout'}})])

      // Logging out twice is harmless and writes nothing more.
      await t.core.sessions.logout(mine.auth, CONTEXT)
      expect(await t.core.audit.latestSeq()).toBe(events[0]!.seq)
    })

    it('logout-all ends every session of the caller and returns how many ended', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'logout-all')
      const bystander = await createPasswordUser(t.core, OPERATOR, 'bystander')
      const sessions = [await loginAs(t.core, user.email), await loginAs(t.core, user.email), await loginAs(t.core, user.email)]
      const theirs = await loginAs(t.core, bystander.email)
      const before = await t.core.audit.latestSeq()

      expect(await t.core.sessions.logoutAll(sessions[1]!.auth, CONTEXT)).toBe(3)
      await t.follower.syncNow()

      for (const session of sessions) {
        await expectTokenRefused(t.core, session.tokens.accessToken, 'session_revoked')
        await expect(refresh(session.tokens.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
      }
      expect(await liveSessionIds(user.id)).toEqual([])
      expect(await auditActionsAfter(t.core, before)).toEqual(['session.revoked', 'session.revoked', 'session.revoked'])
      expect(await t.core.authenticator.authenticate(theirs.tokens.accessToken)).toMatchObject({userId: bystander.id})
    })
  })

  describe('revokeSession', () => {
    it('lets a user revoke their own session, and reports someone else\'s as session.not_found without touching it', async () => {
      const ann = await createPasswordUser(t.core, OPERATOR, 'ann')
      const bob = await createPasswordUser(t.core, OPERATOR, 'bob')
      const annPhone = await loginAs(t.core, ann.email)
      const annLaptop = await loginAs(t.core, ann.email)
      const bobSession = await loginAs(t.core, bob.email)

      const before = await t.core.audit.latestSeq()
      await expect(t.core.sessions.revokeSession(userActor(ann), {session: bobSession.tokens.sessionId})).rejects.toMatchObject({code: 'session.not_found'})
      await expect(t.core.sessions.revokeSession(userActor(ann), {session: 'no-such-session'})).rejects.toMatchObject({code: 'session.not_found'})
      expect(await t.core.audit.latestSeq()).toBe(before)
      expect(await liveSessionIds(bob.id)).toEqual([bobSession.tokens.sessionId])

      const revoked = await t.core.sessions.revokeSession(userActor(ann), {session: annPhone.tokens.sessionId})
      expect(revoked).toMatchObject({id: annPhone.tokens.sessionId, userId: ann.id})
      await t.follower.syncNow()
      await expectTokenRefused(t.core, annPhone.tokens.accessToken, 'session_revoked')
      expect(await t.core.authenticator.authenticate(annLaptop.tokens.accessToken)).toMatchObject({sessionId: annLaptop.tokens.sessionId})
      expect(await t.core.authenticator.authenticate(bobSession.tokens.accessToken)).toMatchObject({sessionId: bobSession.tokens.sessionId})
      expect(await sessionRow(annPhone.tokens.sessionId)).toMatchObject({revoked_reason: 'user'})
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toEqual([expect.objectContaining({action: 'session.revoked', actor: expect.objectContaining({type: 'user', id: ann.id}), metadata: {reason: 'user', user_id: ann.id}})])
    })

    it('lets an operator revoke any session', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'operated')
      const {tokens} = await loginAs(t.core, user.email)
      await t.core.sessions.revokeSession(OPERATOR, {session: tokens.sessionId})
      await t.follower.syncNow()
      await expectTokenRefused(t.core, tokens.accessToken, 'session_revoked')
      expect(await sessionRow(tokens.sessionId)).toMatchObject({revoked_reason: 'operator'})
      await expect(t.core.sessions.revokeSession(OPERATOR, {session: 'no-such-session'})).rejects.toMatchObject({code: 'session.not_found'})
    })

    it('revokeAllSessionsOfUser ends every session and voids every token of the user', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'revoke-all')
      const first = await loginAs(t.core, user.email)
      const second = await loginAs(t.core, user.email)
      const before = await t.core.audit.latestSeq()

      expect(await t.core.sessions.revokeAllSessionsOfUser(OPERATOR, {user: user.email.toUpperCase()})).toBe(2)
      await t.follower.syncNow()

      await expectTokenRefused(t.core, first.tokens.accessToken, SESSION_OR_USER_REVOKED)
      await expectTokenRefused(t.core, second.tokens.accessToken, SESSION_OR_USER_REVOKED)
      await expect(refresh(second.tokens.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
      expect(await liveSessionIds(user.id)).toEqual([])
      expect(await auditActionsAfter(t.core, before)).toEqual(['session.revoked', 'session.revoked'])
      await expect(t.core.sessions.revokeAllSessionsOfUser(OPERATOR, {user: 'nobody@example.com'})).rejects.toMatchObject({code: 'user.not_found'})

      // The user can log in again afterwards (in a later second than the revocation).
      t.clock.advance(SECOND)
      const again = await loginAs(t.core, user.email)
      expect(again.auth.userId).toBe(user.id)
    })
  })

  describe('listSessions', () => {
    it('lets a user list their own (marking the current one) and refuses anyone else\'s with platform.required', async () => {
      const ann = await createPasswordUser(t.core, OPERATOR, 'lister')
      const bob = await createPasswordUser(t.core, OPERATOR, 'listed')
      const phone = await loginAs(t.core, ann.email)
      t.clock.advance(SECOND)
      const laptop = await loginAs(t.core, ann.email)
      const asAnn: Actor = {principal: {kind: 'user', userId: ann.id, sessionId: phone.tokens.sessionId, boundOrgId: null}, origin: {}}
      expect((await t.core.sessions.listSessions(asAnn, {user: ann.id})).map((session) => [session.id, session.isCurrent])).toEqual([
        [laptop.tokens.sessionId, false],
        [phone.tokens.sessionId, true],
      ])
      await expect(t.core.sessions.listSessions(asAnn, {user: bob.id})).rejects.toMatchObject({code: 'platform.required'})
      await expect(t.core.sessions.listSessions(asAnn, {user: bob.email})).rejects.toMatchObject({code: 'platform.required'})
      // Operators see anyone's, without an isCurrent mark.
      expect((await t.core.sessions.listSessions(OPERATOR, {user: ann.email}))[0]).not.toHaveProperty('isCurrent')
    })
  })

  describe('the per-user session limit', () => {
    it('a 6th login revokes the oldest session; listSessions shows 5, newest first', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'limit')
      const logins = []
      for (let index = 0; index < 5; index++) {
        logins.push(await loginAs(t.core, user.email))
        t.clock.advance(SECOND)
      }
      expect(await liveSessionIds(user.id)).toHaveLength(5)
      const before = await t.core.audit.latestSeq()

      const sixth = await loginAs(t.core, user.email)
      await t.follower.syncNow()

      const live = await t.core.sessions.listSessions(OPERATOR, {user: user.id})
      expect(live.map((session) => session.id)).toEqual([sixth, ...logins.slice(1).reverse()].map((login) => login.tokens.sessionId))
      await expectTokenRefused(t.core, logins[0]!.tokens.accessToken, 'session_revoked')
      await expect(refresh(logins[0]!.tokens.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
      expect(await sessionRow(logins[0]!.tokens.sessionId)).toMatchObject({revoked_reason: 'session_limit'})
      for (const login of logins.slice(1)) expect((await t.core.authenticator.authenticate(login.tokens.accessToken)).sessionId).toBe(login.tokens.sessionId)
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events.map((event) => [event.action, event.target?.id, event.metadata.reason])).toEqual([
        ['session.revoked', logins[0]!.tokens.sessionId, 'session_limit'],
        ['session.created', sixth.tokens.sessionId, undefined],
      ])
    })

    it('holds with six logins in the same instant', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'limit-same-instant')
      const logins = []
      for (let index = 0; index < 6; index++) logins.push(await loginAs(t.core, user.email))
      expect(await liveSessionIds(user.id)).toHaveLength(5)
      expect(await liveSessionIds(user.id)).not.toContain(logins[0]!.tokens.sessionId)
    })

    it('holds when logins run concurrently', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'limit-concurrent')
      for (let index = 0; index < 4; index++) await loginAs(t.core, user.email)
      await Promise.all(Array.from({length: 4}, () => t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})))
      expect(await liveSessionIds(user.id)).toHaveLength(5)
    })

    it('does not count expired sessions', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'limit-expired')
      for (let index = 0; index < 5; index++) await loginAs(t.core, user.email)
      t.clock.advance(2_592_000 * SECOND + SECOND)
      const before = await t.core.audit.latestSeq()
      await loginAs(t.core, user.email)
      expect(await auditActionsAfter(t.core, before)).toEqual(['session.created'])
      expect(await liveSessionIds(user.id)).toHaveLength(1)
    })
  })

  describe('switchOrg', () => {
    async function teamWithMember(label: string, role: string) {
      const {user, org: personal, tokens} = await t.core.sessions.register(CONTEXT, {email: `${label}@example.com`, password: PASSWORD})
      const owner = await createPasswordUser(t.core, OPERATOR, `${label}-owner`)
      const {org: team} = await t.core.orgs.createOrg(OPERATOR, {name: `${label} team`, slug: `${label}-team`, owner: owner.id})
      await t.core.members.addMember(OPERATOR, {org: team.id, user: user.id, role})
      return {user, personal, team, tokens, auth: await t.core.authenticator.authenticate(tokens.accessToken)}
    }

    it('with the session\'s refresh token: rotates it, rebinds the session and returns both tokens; the old refresh token is then a reuse', async () => {
      const {user, personal, team, tokens, auth} = await teamWithMember('switcher', 'viewer')
      const before = await t.core.audit.latestSeq()

      const switched = await t.core.sessions.switchOrg(auth, CONTEXT, {org: 'switcher-team', refreshToken: tokens.refreshToken})
      expect(switched.sessionId).toBe(tokens.sessionId)
      expect(switched.refreshToken).toEqual(expect.any(String))
      expect(switched.refreshToken).not.toBe(tokens.refreshToken)
      expect(await t.core.authenticator.authenticate(switched.accessToken)).toMatchObject({userId: user.id, sessionId: tokens.sessionId, orgId: team.id, role: 'viewer'})
      expect(await t.core.sessions.listSessions(OPERATOR, {user: user.id})).toEqual([expect.objectContaining({id: tokens.sessionId, orgId: team.id})])
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toEqual([expect.objectContaining({action: 'session.org_switched', orgId: team.id, metadata: {to: team.id, refresh_token_rotated: true}})])

      // The new refresh token keeps the new binding.
      const refreshed = await refresh(switched.refreshToken!)
      expect(await t.core.authenticator.authenticate(refreshed.accessToken)).toMatchObject({orgId: team.id, role: 'viewer'})
      // The refresh token from before the switch was rotated away: presenting it is a reuse.
      await expect(refresh(tokens.refreshToken)).rejects.toMatchObject({code: 'auth.refresh_token_reused'})
    })

    it('without a refresh token: an access token only, and the session keeps its binding and its refresh token', async () => {
      const {personal, team, tokens, auth} = await teamWithMember('access-only', 'member')
      const before = await t.core.audit.latestSeq()

      const switched = await t.core.sessions.switchOrg(auth, CONTEXT, {org: team.slug})
      expect(switched).not.toHaveProperty('refreshToken')
      expect(switched).toMatchObject({sessionId: tokens.sessionId, tokenType: 'Bearer', expiresIn: 900})
      expect(await t.core.authenticator.authenticate(switched.accessToken)).toMatchObject({sessionId: tokens.sessionId, orgId: team.id, role: 'member'})
      expect(await t.core.audit.listEventsAfter({afterSeq: before})).toEqual([expect.objectContaining({action: 'session.org_switched', metadata: {to: team.id, refresh_token_rotated: false}})])
      // No refresh token was minted: the one the session had still works, bound as before.
      const refreshed = await refresh(tokens.refreshToken)
      expect(await t.core.authenticator.authenticate(refreshed.accessToken)).toMatchObject({orgId: personal.id, role: 'owner'})
      const stored = await t.core.database.db.selectFrom('refresh_token').select('id').where('session_id', '=', tokens.sessionId).execute()
      expect(stored).toHaveLength(2)
    })

    it('refuses a refresh token of another session with auth.invalid_refresh_token, and changes nothing', async () => {
      const {user, team, tokens, auth} = await teamWithMember('other-session', 'viewer')
      const other = await loginAs(t.core, user.email)
      const before = await t.core.audit.latestSeq()
      await expect(t.core.sessions.switchOrg(auth, CONTEXT, {org: team.slug, refreshToken: other.tokens.refreshToken})).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
      await expect(t.core.sessions.switchOrg(auth, CONTEXT, {org: team.slug, refreshToken: 'x'.repeat(43)})).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
      expect(await t.core.audit.latestSeq()).toBe(before)
      // Both refresh tokens still work: neither was claimed.
      await expect(refresh(other.tokens.refreshToken)).resolves.toMatchObject({sessionId: other.tokens.sessionId})
      await expect(refresh(tokens.refreshToken)).resolves.toMatchObject({sessionId: tokens.sessionId})
    })

    it('treats an already rotated refresh token of the session as a reuse: the session is revoked', async () => {
      const {team, tokens, auth} = await teamWithMember('switch-reuse', 'viewer')
      await refresh(tokens.refreshToken)
      await expect(t.core.sessions.switchOrg(auth, CONTEXT, {org: team.slug, refreshToken: tokens.refreshToken})).rejects.toMatchObject({code: 'auth.refresh_token_reused'})
      await t.follower.syncNow()
      await expectTokenRefused(t.core, tokens.accessToken, 'session_revoked')
    })

    it('answers an organization the caller does not belong to and an unknown one alike (org.not_found), and changes nothing', async () => {
      const {tokens} = await t.core.sessions.register(CONTEXT, {email: 'no-switch@example.com', password: PASSWORD})
      const owner = await createPasswordUser(t.core, OPERATOR, 'foreign-owner')
      await t.core.orgs.createOrg(OPERATOR, {name: 'Foreign', slug: 'foreign-org', owner: owner.id})
      const auth = await t.core.authenticator.authenticate(tokens.accessToken)
      const before = await t.core.audit.latestSeq()
      await expect(t.core.sessions.switchOrg(auth, CONTEXT, {org: 'foreign-org', refreshToken: tokens.refreshToken})).rejects.toMatchObject({code: 'org.not_found'})
      await expect(t.core.sessions.switchOrg(auth, CONTEXT, {org: 'no-such-org', refreshToken: tokens.refreshToken})).rejects.toMatchObject({code: 'org.not_found'})
      await expect(t.core.sessions.switchOrg(auth, CONTEXT, {})).rejects.toMatchObject({code: 'validation.failed'})
      expect(await t.core.audit.latestSeq()).toBe(before)
      // The refresh token still works: nothing was rotated.
      await expect(refresh(tokens.refreshToken)).resolves.toMatchObject({sessionId: tokens.sessionId})
    })

    it('refuses a caller whose session has ended with auth.invalid_token', async () => {
      const {tokens} = await t.core.sessions.register(CONTEXT, {email: 'ended-switch@example.com', password: PASSWORD})
      const auth = await t.core.authenticator.authenticate(tokens.accessToken)
      await t.core.sessions.logout(auth, CONTEXT)
      await expect(t.core.sessions.switchOrg(auth, CONTEXT, {org: auth.orgId!})).rejects.toMatchObject({code: 'auth.invalid_token'})
    })
  })
})
