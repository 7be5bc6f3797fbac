import {afterAll, beforeAll, expect, it} from 'vitest'
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
  openSecondProcess,
  SECOND,
  type IdentityTestCore,
} from './identity-fixture.js'

// RFC 7009 in the core (core.sessions.revokeToken): whoever holds a token may end it; what is
// unknown or already void changes nothing and is no error.
describeEachDialect('identity: token revocation (RFC 7009)', (dialect) => {
  let t: IdentityTestCore
  beforeAll(async () => {
    t = await createIdentityTestCore(dialect)
  })
  afterAll(async () => t?.close())

  const revoke = (token: string, tokenTypeHint?: string) => t.core.sessions.revokeToken(CONTEXT, {token, tokenTypeHint})

  it('a refresh token ends its session, as a logout does, audited session.revoked (token_revoked)', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'revoke-refresh')
    const {tokens} = await loginAs(t.core, user.email)
    const before = await t.core.audit.latestSeq()
    expect(await revoke(tokens.refreshToken, 'refresh_token')).toBe('session')
    expect(await auditActionsAfter(t.core, before)).toEqual(['session.revoked'])
    await t.follower.syncNow()
    await expectTokenRefused(t.core, tokens.accessToken, 'session_revoked')
    await expect(t.core.sessions.refresh(CONTEXT, {refreshToken: tokens.refreshToken})).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
    // Again: nothing left to end.
    expect(await revoke(tokens.refreshToken)).toBeNull()
  })

  it('a rotated (older) refresh token of a live session ends it too', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'revoke-rotated')
    const {tokens} = await loginAs(t.core, user.email)
    const rotated = await t.core.sessions.refresh(CONTEXT, {refreshToken: tokens.refreshToken})
    expect(await revoke(tokens.refreshToken)).toBe('session')
    await t.follower.syncNow()
    await expectTokenRefused(t.core, rotated.accessToken, 'session_revoked')
  })

  it('an access token is voided alone: the session still refreshes; other processes follow the log', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'revoke-access')
    const {tokens} = await loginAs(t.core, user.email)
    const other = await openSecondProcess(t)
    try {
      // The other process has verified (and remembered) the token before.
      expect(await other.core.authenticator.authenticate(tokens.accessToken)).toMatchObject({sessionId: tokens.sessionId})
      const before = await t.core.audit.latestSeq()
      expect(await revoke(tokens.accessToken, 'access_token')).toBe('access_token')
      expect(await auditActionsAfter(t.core, before)).toEqual(['access_token.revoked'])
      await t.follower.syncNow()
      await expectTokenRefused(t.core, tokens.accessToken, 'token_revoked')
      await other.follower.syncNow()
      await expectTokenRefused(other.core, tokens.accessToken, 'token_revoked')
    } finally {
      await other.close()
    }
    const refreshed = await t.core.sessions.refresh(CONTEXT, {refreshToken: tokens.refreshToken})
    expect(await t.core.authenticator.authenticate(refreshed.accessToken)).toMatchObject({sessionId: tokens.sessionId})
    // Revoking it twice writes nothing more.
    const before = await t.core.audit.latestSeq()
    expect(await revoke(tokens.accessToken)).toBeNull()
    expect(await auditActionsAfter(t.core, before)).toEqual([])
  })

  it('unknown, malformed, expired and already void tokens change nothing', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'revoke-nothing')
    const {tokens, auth} = await loginAs(t.core, user.email)
    const before = await t.core.audit.latestSeq()
    for (const token of ['', 'unknown-refresh-token', 'a.b.c', `${tokens.accessToken.slice(0, -4)}AAAA`]) expect(await revoke(token)).toBeNull()
    await t.core.sessions.logout(auth, CONTEXT)
    const afterLogout = await t.core.audit.latestSeq()
    // Its session has ended: the access token is void already.
    expect(await revoke(tokens.accessToken)).toBeNull()
    const fresh = await loginAs(t.core, user.email)
    t.clock.advance(ACCESS_TOKEN_TTL_MS + SECOND)
    expect(await revoke(fresh.tokens.accessToken)).toBeNull()
    expect(await auditActionsAfter(t.core, afterLogout, 'access_token.revoked')).toEqual([])
    expect(await auditActionsAfter(t.core, before, 'session.revoked')).toEqual(['session.revoked'])
  })

  it('refuses an API key (oauth.unsupported_token_type) and input past its limits (validation.failed)', async () => {
    await expect(revoke(`sk_${'A'.repeat(43)}`)).rejects.toMatchObject({code: 'oauth.unsupported_token_type'})
    await expect(revoke('x'.repeat(8193))).rejects.toMatchObject({code: 'validation.failed'})
  })
})
