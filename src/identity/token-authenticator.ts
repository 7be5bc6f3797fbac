import {DomainError} from '../errors/domain-error.js'
import {isAccessTokenError} from '../security/access-token-error.js'
import type {AccessTokenClaims, AccessTokenIssuer} from '../security/access-tokens.js'
import type {Clock} from '../security/clock.js'
import {loadJose} from '../security/load-jose.js'
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
  /**
   * The token's org binding was voided (a demotion, a removal or the org's deletion since it was
   * issued). The token still names its user and session: the daemon's own routes judge them by
   * the membership as it is now (so an owner can still restore a deleted org), but
   * introspection reports it inactive, since apps trust the role claim it carries.
   */
  isOrgBindingRevoked: boolean
  /** The token's email_verified claim: whether the address was verified when it was issued (absent on older tokens). */
  emailVerified?: boolean
}

export type TokenAuthenticator = ReturnType<typeof createTokenAuthenticator>

/**
 * Checks an access token: signature, algorithm, issuer, audience and expiry (jose), then the
 * in-process revocation cache (revoked token, session or user). No database on this path.
 */
export function createTokenAuthenticator(deps: {tokens: AccessTokenIssuer; revocations: RevocationCache; clock: Clock}) {
  // A token's signature, issuer and audience never change, so a verified token is remembered
  // (until it expires) and the signature check runs once per token, not once per request.
  // Expiry and revocation are still checked on every call.
  // Each with its signing key's id, read once here rather than on every request.
  const verified = new Map<string, {claims: AccessTokenClaims; kid: string}>()
  const maxVerified = 10_000

  async function verifySignedClaims(token: string): Promise<AccessTokenClaims> {
    const remembered = verified.get(token)
    if (remembered) {
      // Its signing key may have been revoked since (`keys revoke`): re-checked, like expiry.
      if (deps.revocations.isKeyRevoked(remembered.kid)) {
        verified.delete(token)
        throw new DomainError('auth.invalid_token', 'The access token is invalid or expired', {reason: 'key_revoked'})
      }
      if (remembered.claims.exp * 1000 > deps.clock.now().getTime()) return remembered.claims
      verified.delete(token)
      throw new DomainError('auth.invalid_token', 'The access token is invalid or expired', {reason: 'expired'})
    }
    try {
      const claims = await deps.tokens.verify(token)
      const {decodeProtectedHeader} = await loadJose()
      if (verified.size >= maxVerified) verified.delete(verified.keys().next().value!)
      verified.set(token, {claims, kid: String(decodeProtectedHeader(token).kid)})
      return claims
    } catch (error) {
      if (isAccessTokenError(error)) throw new DomainError('auth.invalid_token', 'The access token is invalid or expired', {reason: error.reason})
      throw error
    }
  }

  return {
    /** Raises auth.invalid_token, with details.reason (malformed, expired, bad_signature, …, token_revoked, session_revoked, user_revoked). */
    async authenticate(token: string): Promise<AuthContext> {
      const claims = await verifySignedClaims(token)
      const revoked = deps.revocations.findRevocation(claims)
      const isOrgBindingRevoked = revoked === 'membership_revoked' || revoked === 'org_revoked'
      if (revoked && !isOrgBindingRevoked) throw new DomainError('auth.invalid_token', 'The access token has been revoked', {reason: revoked})
      return {userId: claims.sub, sessionId: claims.sid, jti: claims.jti, orgId: claims.org ?? null, role: claims.role ?? null, issuedAt: claims.iat, expiresAt: claims.exp, isOrgBindingRevoked, ...(claims.email_verified === undefined ? {} : {emailVerified: claims.email_verified})}
    },
  }
}
