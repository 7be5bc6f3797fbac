import type {Kysely} from 'kysely'
import {z} from 'zod'
import {API_KEY_PREFIX} from '../access/bearer-authenticator.js'
import type {Database} from '../db/database.js'
import {DomainError} from '../errors/domain-error.js'
import {isAccessTokenError} from '../security/access-token-error.js'
import type {AccessTokenClaims} from '../security/access-tokens.js'
import {hashToken} from '../security/secure-token.js'
import {nowIso} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {findRefreshTokenByHash} from './refresh-token-repo.js'
import {appendRevocations, hasActiveRevocation} from './revocation-log.js'
import type {RequestContext, SessionDeps, SessionIssuance} from './session-issuance.js'
import {findSession} from './session-repo.js'
import {revokeSessions} from './session-revocation.js'
import {findUserByRef} from './user-repo.js'

export const revokeTokenSchema = z.object({
  token: z.string().max(8192),
  // Accepted and not needed: the token's form tells (a JWT is an access token, else a refresh token).
  tokenTypeHint: z.string().max(64).optional(),
})
export type RevokeTokenInput = z.input<typeof revokeTokenSchema>

/** What a revocation ended: the refresh token's session, one access token, or nothing (unknown, invalid or already void). */
export type RevokedToken = 'session' | 'access_token' | null

export type TokenRevocationService = ReturnType<typeof createTokenRevocationService>

/** Token revocation as RFC 7009 defines it: whoever holds a token may end it. */
export function createTokenRevocationService(deps: SessionDeps & {issuance: SessionIssuance}) {
  const {audit, issuance} = deps

  /** Ends the session of a stored refresh token (its current one or an older, rotated one), as a logout does. */
  async function revokeRefreshToken(tx: Kysely<Database>, refreshToken: string, context: RequestContext): Promise<RevokedToken> {
    const stored = await findRefreshTokenByHash(tx, hashToken(refreshToken))
    if (!stored || stored.sessionRevokedAt) return null
    const revoked = await revokeSessions(tx, [stored.sessionId], 'token_revoked', issuance.timing())
    if (revoked.length === 0) return null
    await audit.append(tx, issuance.actorOf({id: stored.userId, email: stored.email}, context, stored.sessionId), {
      action: 'session.revoked',
      orgId: stored.orgId,
      target: {type: 'session', id: stored.sessionId},
      metadata: {reason: 'token_revoked'},
    })
    return 'session'
  }

  /** Voids one access token (its jti) until it expires; its session and refresh token live on. */
  async function revokeAccessToken(tx: Kysely<Database>, claims: AccessTokenClaims, context: RequestContext): Promise<RevokedToken> {
    const now = nowIso(deps)
    const user = await findUserByRef(tx, claims.sub)
    const session = await findSession(tx, claims.sid, claims.sub)
    // Already void: its user or session is gone or revoked (their own entries block it), or the token itself was revoked.
    if (!user || user.disabled_at || !session || session.revoked_at || (await hasActiveRevocation(tx, 'token', claims.jti, now))) return null
    const expiresAt = new Date(Math.max(claims.exp * 1000, Date.parse(now))).toISOString()
    await appendRevocations(tx, [{kind: 'token', subject: claims.jti, reason: 'token_revoked', createdAt: now, expiresAt}])
    await audit.append(tx, issuance.actorOf(user, context, claims.sid), {
      action: 'access_token.revoked',
      orgId: claims.org ?? null,
      target: {type: 'session', id: claims.sid},
      metadata: {jti: claims.jti},
    })
    return 'access_token'
  }

  /** The claims of an access token this daemon would accept now; null for anything else. */
  async function readAccessToken(token: string): Promise<AccessTokenClaims | null> {
    try {
      return await deps.tokens.verify(token)
    } catch (error) {
      if (isAccessTokenError(error)) return null
      throw error
    }
  }

  return {
    /**
     * Revokes a token (RFC 7009). A refresh token, current or rotated, ends its session as a
     * logout does (session.revoked, reason token_revoked): every access token of the session
     * is refused within one revocation poll. An access token is voided alone (its jti; audited
     * access_token.revoked); its session can still refresh. An unknown, expired, malformed or
     * already revoked token changes nothing and is no error (RFC 7009 §2.2). Raises
     * oauth.unsupported_token_type for an API key (`sk_…`: revoked with `apikey revoke`) and
     * validation.failed.
     */
    async revokeToken(context: RequestContext, input: RevokeTokenInput): Promise<RevokedToken> {
      const {token} = validateInput(revokeTokenSchema, input)
      if (token.startsWith(API_KEY_PREFIX)) throw new DomainError('oauth.unsupported_token_type', 'API keys are revoked with DELETE /v1/orgs/{org}/api-keys/{id} or `saas-ctl apikey revoke`')
      if (token === '') return null
      if (token.includes('.')) {
        const claims = await readAccessToken(token)
        if (!claims) return null
        return issuance.notifyingRevocations((tx) => revokeAccessToken(tx, claims, context))
      }
      return issuance.notifyingRevocations((tx) => revokeRefreshToken(tx, token, context))
    },
  }
}
