import {DomainError} from '../errors/domain-error.js'
import {isAccessTokenError} from '../security/access-token-error.js'
import type {AccessTokenIssuer} from '../security/access-tokens.js'
import type {RevocationCache} from './revocation-cache.js'

/** The caller behind a valid access token. */
export interface AuthContext {
  userId: string
  sessionId: string
  jti: string
  orgId: string | null
  role: string | null
  /** Seconds since the epoch. */
  issuedAt: number
  expiresAt: number
}

export type TokenAuthenticator = ReturnType<typeof createTokenAuthenticator>

/**
 * Checks an access token: signature, algorithm, issuer, audience and expiry (jose), then the
 * in-process revocation cache (revoked token, session or user). No database on this path.
 */
export function createTokenAuthenticator(deps: {tokens: AccessTokenIssuer; revocations: RevocationCache}) {
  return {
    /** Raises auth.invalid_token, with details.reason (malformed, expired, bad_signature, …, token_revoked, session_revoked, user_revoked). */
    async authenticate(token: string): Promise<AuthContext> {
      let claims
      try {
        claims = await deps.tokens.verify(token)
      } catch (error) {
        if (isAccessTokenError(error)) throw new DomainError('auth.invalid_token', 'The access token is invalid or expired', {reason: error.reason})
        throw error
      }
      const revoked = deps.revocations.findRevocation(claims)
      if (revoked) throw new DomainError('auth.invalid_token', 'The access token has been revoked', {reason: revoked})
      return {userId: claims.sub, sessionId: claims.sid, jti: claims.jti, orgId: claims.org ?? null, role: claims.role ?? null, issuedAt: claims.iat, expiresAt: claims.exp}
    },
  }
}
