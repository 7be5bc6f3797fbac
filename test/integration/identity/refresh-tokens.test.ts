import {afterAll, beforeAll, expect, it} from 'vitest'
import {OPERATOR} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {auditActionsAfter, CONTEXT, createIdentityTestCore, createPasswordUser, expectTokenRefused, loginAs, PASSWORD, REFRESH_TOKEN_TTL_MS, SECOND, uniqueEmail, type IdentityTestCore} from './identity-fixture.js'

describeEachDialect('identity: refresh tokens', (dialect) => {
  let t: IdentityTestCore
  beforeAll(async () => {
    t = await createIdentityTestCore(dialect)
  })
  afterAll(async () => t?.close())

  const refresh = (refreshToken: string) => t.core.sessions.refresh(CONTEXT, {refreshToken})

  async function liveSessionIds(userId: string): Promise<string[]> {
    return (await t.core.sessions.listSessions(OPERATOR, {user: userId})).map((session) => session.id)
  }

  it('rotates: each refresh gives new tokens for the same session and the next refresh token', async () => {
    const {user, org, tokens} = await t.core.sessions.register(CONTEXT, {email: uniqueEmail('rotate'), password: PASSWORD})
    t.clock.advance(5 * SECOND)
    const second = await refresh(tokens.refreshToken)
    expect(second).toMatchObject({tokenType: 'Bearer', expiresIn: 900, sessionId: tokens.sessionId})
    expect(second.refreshToken).not.toBe(tokens.refreshToken)
    expect(second.accessToken).not.toBe(tokens.accessToken)
    // The binding survives the refresh.
    expect(await t.core.authenticator.authenticate(second.accessToken)).toMatchObject({userId: user.id, sessionId: tokens.sessionId, orgId: org.id, role: 'owner'})

    const third = await refresh(second.refreshToken)
    expect(third.sessionId).toBe(tokens.sessionId)
    expect(await t.core.authenticator.authenticate(third.accessToken)).toMatchObject({sessionId: tokens.sessionId})
    const [session] = await t.core.sessions.listSessions(OPERATOR, {user: user.id})
    expect(session).toMatchObject({id: tokens.sessionId, lastUsedAt: t.clock.now().toISOString()})
  })

  it('carries the current role of the bound organization into refreshed tokens', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'role-change')
    const owner = await createPasswordUser(t.core, OPERATOR, 'role-owner')
    const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Role Change', slug: 'role-change', owner: owner.id})
    await t.core.members.addMember(OPERATOR, {org: org.id, user: user.id, role: 'viewer'})
    const {tokens, auth} = await loginAs(t.core, user.email, 'role-change')
    expect(auth).toMatchObject({orgId: org.id, role: 'viewer'})
    await t.core.members.setMemberRole(OPERATOR, {org: org.id, user: user.id, role: 'admin'})
    const refreshed = await refresh(tokens.refreshToken)
    expect(await t.core.authenticator.authenticate(refreshed.accessToken)).toMatchObject({orgId: org.id, role: 'admin'})
    // Removed from the organization: the bound session can no longer refresh into it.
    await t.core.members.removeMember(OPERATOR, {org: org.id, user: user.id})
    await expect(refresh(refreshed.refreshToken)).rejects.toMatchObject({code: 'org.not_found'})
  })

  it('refuses an unknown refresh token with auth.invalid_refresh_token', async () => {
    await expect(refresh('x'.repeat(43))).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
    await expect(refresh('')).rejects.toMatchObject({code: 'validation.failed'})
  })

  it('on reuse of a rotated refresh token revokes the whole session, audits it, and voids every token of the family', async () => {
    const {user, tokens} = await t.core.sessions.register(CONTEXT, {email: uniqueEmail('reuse'), password: PASSWORD})
    const other = await loginAs(t.core, user.email)
    const second = await refresh(tokens.refreshToken)
    const before = await t.core.audit.latestSeq()

    await expect(refresh(tokens.refreshToken)).rejects.toMatchObject({code: 'auth.refresh_token_reused'})

    const events = await t.core.audit.listEventsAfter({afterSeq: before})
    expect(events.map((event) => event.action)).toEqual(['security.refresh_token_reuse'])
    expect(events[0]).toMatchObject({target: {type: 'session', id: tokens.sessionId}, actor: {type: 'user', id: user.id}, ip: CONTEXT.ip, metadata: {session_revoked: true}})
    expect(await liveSessionIds(user.id)).toEqual([other.tokens.sessionId])

    // The newest refresh token of the family is dead too, and presenting it is not a second "reuse".
    await expect(refresh(second.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
    await expect(refresh(tokens.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
    expect(await auditActionsAfter(t.core, before, 'security.refresh_token_reuse')).toHaveLength(1)

    // Once the revocation reached this process, every access token of that session is refused.
    await t.follower.syncNow()
    await expectTokenRefused(t.core, tokens.accessToken, 'session_revoked')
    await expectTokenRefused(t.core, second.accessToken, 'session_revoked')
    // The user's other session is untouched.
    expect(await t.core.authenticator.authenticate(other.tokens.accessToken)).toMatchObject({sessionId: other.tokens.sessionId})
    await expect(refresh(other.tokens.refreshToken)).resolves.toMatchObject({sessionId: other.tokens.sessionId})
  })

  it('of two concurrent refreshes with the same token, exactly one rotates it', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'race')
    const {tokens} = await loginAs(t.core, user.email)
    const results = await Promise.allSettled([refresh(tokens.refreshToken), refresh(tokens.refreshToken)])
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
    const rejected = results.find((result) => result.status === 'rejected')
    expect(rejected?.reason).toMatchObject({code: 'auth.refresh_token_reused'})
  })

  it('refuses an expired refresh token with auth.invalid_refresh_token', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'expired')
    const {tokens} = await loginAs(t.core, user.email)
    t.clock.advance(REFRESH_TOKEN_TTL_MS - SECOND)
    const fresh = await refresh(tokens.refreshToken)
    t.clock.advance(REFRESH_TOKEN_TTL_MS + SECOND)
    await expect(refresh(fresh.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
  })

  it('keeps refusing an expired refresh token as invalid, never as a reuse that writes a security event', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'expired-twice')
    const {tokens} = await loginAs(t.core, user.email)
    t.clock.advance(REFRESH_TOKEN_TTL_MS + SECOND)
    const before = await t.core.audit.latestSeq()
    await expect(refresh(tokens.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
    // The token was never exchanged: presenting it again is not theft.
    await expect(refresh(tokens.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
    expect(await auditActionsAfter(t.core, before)).toEqual([])
  })

  it('refuses the refresh token of a logged-out session with auth.invalid_refresh_token', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'logged-out')
    const {tokens, auth} = await loginAs(t.core, user.email)
    await t.core.sessions.logout(auth, CONTEXT)
    const before = await t.core.audit.latestSeq()
    await expect(refresh(tokens.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
    await expect(refresh(tokens.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
    expect(await auditActionsAfter(t.core, before)).toEqual([])
  })
})
