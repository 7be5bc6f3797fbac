import type {CryptoKey, JWTHeaderParameters} from 'jose'
import {v7 as uuidv7} from 'uuid'
import {AccessTokenError} from './access-token-error.js'
import type {Clock} from './clock.js'
import {loadJose} from './load-jose.js'
import {pickEcPublicMembers, SIGNING_ALGORITHM, type SigningKey, type VerificationKey} from './signing-keys.js'

/**
 * Where the issuer gets its keys. Both methods may be sync or async, so an in-memory ring and
 * a database lookup fit alike.
 */
export interface SigningKeyProvider {
  /** The key new tokens are signed with. */
  getSigningKey(): SigningKey | Promise<SigningKey>
  /** The key that verifies tokens carrying `kid`, or null when that key is not trusted. */
  findVerificationKey(kid: string): VerificationKey | null | Promise<VerificationKey | null>
}

export interface AccessTokenIssuerOptions {
  /** `iss` of every token issued, and the only `iss` accepted. */
  readonly issuer: string
  /** `aud` of every token issued, and the only `aud` accepted. */
  readonly audience: string
  /** Positive integer; 900 (15 minutes) by default. */
  readonly lifetimeSeconds?: number
  readonly clock: Clock
  readonly keyProvider: SigningKeyProvider
}

export interface IssueAccessTokenInput {
  readonly userId: string
  readonly sessionId: string
  /** The active organization, when the token is bound to one. */
  readonly orgId?: string | null
  /** The caller's role in `orgId`; only meaningful, and only allowed, with `orgId`. */
  readonly role?: string | null
  /**
   * When the token counts as issued (iat, the jti's timestamp, and exp = this + lifetime); the
   * clock's now by default. Services pass the time they read the rights the token carries, so
   * a revocation committed after that read but before signing still covers the token.
   */
  readonly issuedAt?: Date
  /** Whether the user's email address is verified: the `email_verified` claim, when given. */
  readonly emailVerified?: boolean
}

export interface IssuedAccessToken {
  readonly token: string
  readonly jti: string
  readonly expiresAt: Date
}

/** The claims of a verified access token. `org` and `role` appear only when bound. */
export interface AccessTokenClaims {
  readonly iss: string
  readonly aud: string
  /** The user id. */
  readonly sub: string
  /** The session id. */
  readonly sid: string
  readonly jti: string
  /** Seconds since the epoch. */
  readonly iat: number
  /** Seconds since the epoch. */
  readonly exp: number
  readonly org?: string
  readonly role?: string
  /** Whether the user's email address was verified when the token was issued (OpenID's claim name). */
  readonly email_verified?: boolean
}

export interface AccessTokenIssuer {
  /**
   * Signs a token with the provider's current key: header `{alg: 'ES256', kid, typ: 'JWT'}`,
   * claims iss, aud, sub, sid, jti (a UUIDv7), iat (issuedAt, else now) and exp (iat + lifetime),
   * plus org, role and email_verified when given. Throws TypeError for an empty id, a role without an org or an
   * invalid issuedAt.
   */
  issue(input: IssueAccessTokenInput): Promise<IssuedAccessToken>
  /**
   * Returns the claims of a token this issuer would issue, checked against the clock's now.
   * Only ES256 is accepted whatever the header says; the key comes only from the provider by
   * `kid`, never from the token. A token whose exp − iat exceeds the lifetime is refused
   * (lifetime_exceeded), and one whose iat is more than ISSUED_AT_LEEWAY_SECONDS ahead of the
   * clock (issued_in_future). Throws AccessTokenError for any token it refuses; other
   * errors (a failing key provider) propagate as they are.
   */
  verify(token: string): Promise<AccessTokenClaims>
}

const DEFAULT_LIFETIME_SECONDS = 900

/**
 * How far a token's iat may lie ahead of this daemon's clock: daemons on several hosts differ
 * by a little. Beyond it the token is refused (issued_in_future), so an accepted token never
 * expires later than now + lifetime + this leeway, which is how long revocation entries are kept.
 */
export const ISSUED_AT_LEEWAY_SECONDS = 60

const TOKEN_TYPE = 'JWT'

export function createAccessTokenIssuer(options: AccessTokenIssuerOptions): AccessTokenIssuer {
  const {issuer, audience, clock, keyProvider} = options
  const lifetimeSeconds = options.lifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS
  assertNonEmptyString('issuer', issuer)
  assertNonEmptyString('audience', audience)
  if (!Number.isSafeInteger(lifetimeSeconds) || lifetimeSeconds <= 0) {
    throw new RangeError('lifetimeSeconds must be a positive integer')
  }

  // Import once per key. kid is the thumbprint of the public key, and the coordinates are
  // part of the cache key too, so a provider that changed a key under the same kid still
  // gets the key it returned.
  const signingKeys = new Map<string, Promise<CryptoKey>>()
  const verificationKeys = new Map<string, Promise<CryptoKey>>()

  async function importSigningKey(key: SigningKey): Promise<CryptoKey> {
    if (key.algorithm !== SIGNING_ALGORITHM) {
      throw new Error(`signing key ${key.kid} is ${String(key.algorithm)}, expected ${SIGNING_ALGORITHM}`)
    }
    const {d} = key.privateJwk
    if (typeof d !== 'string') throw new TypeError(`signing key ${key.kid} has no private scalar`)
    const jwk = {...pickEcPublicMembers(key.privateJwk), d}
    return importCached(signingKeys, `${key.kid}.${jwk.x}.${jwk.y}`, async () => (await loadJose()).importJWK(jwk, SIGNING_ALGORITHM))
  }

  async function resolveVerificationKey(header: JWTHeaderParameters): Promise<CryptoKey> {
    const {kid} = header
    if (typeof kid !== 'string' || kid === '') {
      throw new AccessTokenError('malformed', 'the token header has no "kid"')
    }
    const key = await keyProvider.findVerificationKey(kid)
    if (key === null) throw new AccessTokenError('unknown_key', 'the token was signed by a key that is not trusted')
    if (key.algorithm !== SIGNING_ALGORITHM) {
      throw new AccessTokenError('bad_algorithm', 'the token names a key that is not an ES256 key')
    }
    let jwk
    try {
      jwk = pickEcPublicMembers(key.publicJwk)
    } catch (cause) {
      // Our own stored data is wrong; that is not the token's fault, so it is not an
      // AccessTokenError.
      throw new Error(`verification key ${kid} is not a P-256 public key`, {cause})
    }
    return importCached(verificationKeys, `${kid}.${jwk.x}.${jwk.y}`, async () => (await loadJose()).importJWK(jwk, SIGNING_ALGORITHM))
  }

  return {
    async issue(input) {
      assertNonEmptyString('userId', input.userId)
      assertNonEmptyString('sessionId', input.sessionId)
      const orgId = input.orgId ?? null
      const role = input.role ?? null
      if (orgId !== null) assertNonEmptyString('orgId', orgId)
      if (role !== null) {
        assertNonEmptyString('role', role)
        if (orgId === null) throw new TypeError('a role can only be bound together with an orgId')
      }

      const signingKey = await keyProvider.getSigningKey()
      const privateKey = await importSigningKey(signingKey)
      if (input.issuedAt !== undefined && !(input.issuedAt instanceof Date && Number.isFinite(input.issuedAt.getTime()))) {
        throw new TypeError('issuedAt must be a valid Date')
      }
      const now = input.issuedAt ?? clock.now()
      const issuedAt = Math.floor(now.getTime() / 1000)
      const expiresAt = issuedAt + lifetimeSeconds
      const jti = uuidv7({msecs: now.getTime()})

      const extraClaims: Record<string, string | boolean> = {sid: input.sessionId}
      if (orgId !== null) extraClaims.org = orgId
      if (role !== null) extraClaims.role = role
      if (input.emailVerified !== undefined) extraClaims.email_verified = input.emailVerified === true

      const {SignJWT} = await loadJose()
      const token = await new SignJWT(extraClaims)
        .setProtectedHeader({alg: SIGNING_ALGORITHM, kid: signingKey.kid, typ: TOKEN_TYPE})
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(input.userId)
        .setJti(jti)
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .sign(privateKey)
      return {token, jti, expiresAt: new Date(expiresAt * 1000)}
    },

    async verify(token) {
      if (typeof token !== 'string' || token === '') {
        throw new AccessTokenError('malformed', 'the token is empty or not a string')
      }
      const jose = await loadJose()
      let payload
      try {
        const result = await jose.jwtVerify(token, resolveVerificationKey, {
          algorithms: [SIGNING_ALGORITHM],
          issuer,
          audience,
          typ: TOKEN_TYPE,
          currentDate: clock.now(),
          requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
        })
        payload = result.payload
      } catch (error) {
        throw toAccessTokenError(error, jose.errors)
      }
      const claims = readClaims(payload)
      // A revocation entry is kept for the configured lifetime, so it must outlive every token
      // accepted: one that claims a longer life (signed under an older, longer setting, or by a
      // key used elsewhere) is refused.
      if (claims.exp - claims.iat > lifetimeSeconds) {
        throw new AccessTokenError('lifetime_exceeded', 'the token lives longer than the configured access-token lifetime')
      }
      // Else a token dated ahead (a forged or misconfigured signer) would outlive the entries
      // that revoke it, though its exp − iat is within the lifetime.
      if (claims.iat > clock.now().getTime() / 1000 + ISSUED_AT_LEEWAY_SECONDS) {
        throw new AccessTokenError('issued_in_future', 'the token was issued further in the future than the clock leeway allows')
      }
      return claims
    },
  }
}

function importCached(
  cache: Map<string, Promise<CryptoKey>>,
  cacheKey: string,
  load: () => Promise<CryptoKey | Uint8Array>,
): Promise<CryptoKey> {
  let imported = cache.get(cacheKey)
  if (imported === undefined) {
    imported = load().then((key) => {
      if (key instanceof Uint8Array) throw new TypeError('expected an asymmetric key, got a secret')
      return key
    })
    imported.catch(() => cache.delete(cacheKey))
    cache.set(cacheKey, imported)
  }
  return imported
}

/**
 * Re-checks the shape of every claim we rely on (jose checks presence, not type) and copies
 * only those, so nothing unexpected in a signed payload travels further.
 */
function readClaims(payload: Record<string, unknown>): AccessTokenClaims {
  const {iss, aud, sub, sid, jti, iat, exp, org, role, email_verified: emailVerified} = payload
  const isNonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== ''
  if (!isNonEmpty(iss) || !isNonEmpty(aud) || !isNonEmpty(sub) || !isNonEmpty(sid) || !isNonEmpty(jti)) {
    throw new AccessTokenError('malformed', 'the token lacks a well-formed iss, aud, sub, sid or jti')
  }
  if (!Number.isFinite(iat) || !Number.isFinite(exp)) {
    throw new AccessTokenError('malformed', 'the token lacks a numeric iat or exp')
  }
  if ((org !== undefined && !isNonEmpty(org)) || (role !== undefined && !isNonEmpty(role))) {
    throw new AccessTokenError('malformed', 'the token has a malformed org or role')
  }
  if (emailVerified !== undefined && typeof emailVerified !== 'boolean') {
    throw new AccessTokenError('malformed', 'the token has a malformed email_verified')
  }
  return {
    iss,
    aud,
    sub,
    sid,
    jti,
    iat: iat as number,
    exp: exp as number,
    ...(org === undefined ? {} : {org}),
    ...(role === undefined ? {} : {role}),
    ...(emailVerified === undefined ? {} : {email_verified: emailVerified}),
  }
}

function toAccessTokenError(error: unknown, errors: typeof import('jose').errors): unknown {
  if (error instanceof AccessTokenError) return error
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new AccessTokenError('bad_algorithm', 'the token is not signed with ES256', {cause: error})
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AccessTokenError('bad_signature', 'the token signature does not verify', {cause: error})
  }
  if (error instanceof errors.JWTExpired) {
    return new AccessTokenError('expired', 'the token has expired', {cause: error})
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new AccessTokenError('wrong_issuer', 'the token has another issuer', {cause: error})
    if (error.claim === 'aud') return new AccessTokenError('wrong_audience', 'the token is for another audience', {cause: error})
    return new AccessTokenError('malformed', `the token fails the "${error.claim}" check`, {cause: error})
  }
  if (error instanceof errors.JOSEError) {
    return new AccessTokenError('malformed', 'the token is not a well-formed JWS', {cause: error})
  }
  // Not about the token (e.g. the key provider failed): let it through unchanged.
  return error
}

function assertNonEmptyString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`)
}
