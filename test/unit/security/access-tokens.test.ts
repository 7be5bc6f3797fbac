import {createHmac, createPublicKey} from 'node:crypto'
import {
  CompactSign,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  jwtVerify,
  SignJWT,
  UnsecuredJWT,
  type JWTPayload,
} from 'jose'
import {validate as isUuid, version as uuidVersion} from 'uuid'
import {beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {createRevocationCache} from '../../../src/identity/revocation-cache.js'
import {membershipSubject} from '../../../src/identity/session-revocation.js'
import {AccessTokenError, type AccessTokenFailureReason} from '../../../src/security/access-token-error.js'
import {createAccessTokenIssuer, ISSUED_AT_LEEWAY_SECONDS, type AccessTokenIssuer, type SigningKeyProvider} from '../../../src/security/access-tokens.js'
import {createFixedClock, type FixedClock} from '../../../src/security/clock.js'
import {createSigningKeyRing, type SigningKeyRing} from '../../../src/security/signing-key-ring.js'
import {generateSigningKey, type StoredSigningKey} from '../../../src/security/signing-keys.js'

const ISSUER = 'https://id.example.test'
const AUDIENCE = 'saas-ctl'
// In the past on purpose: these tokens verify only if the issuer reads the injected clock.
const START = new Date('2020-01-01T00:00:00.000Z')
const START_SECONDS = START.getTime() / 1000

let ourKey: StoredSigningKey
let foreignKey: StoredSigningKey
let clock: FixedClock
let ring: SigningKeyRing
let issuer: AccessTokenIssuer

beforeAll(async () => {
  const keyClock = createFixedClock(START)
  ourKey = await generateSigningKey(keyClock)
  foreignKey = await generateSigningKey(keyClock)
})

beforeEach(() => {
  clock = createFixedClock(START)
  ring = createSigningKeyRing([ourKey])
  issuer = createAccessTokenIssuer({issuer: ISSUER, audience: AUDIENCE, clock, keyProvider: ring})
})

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

function validClaims(): JWTPayload {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    sid: 'session-1',
    jti: '0190f1e8-0000-7000-8000-000000000001',
    iat: START_SECONDS,
    exp: START_SECONDS + 900,
  }
}

/** Signs arbitrary claims and header with a real ES256 key, bypassing the issuer's checks. */
async function signES256(
  claims: JWTPayload,
  key: StoredSigningKey = ourKey,
  header: Record<string, unknown> = {kid: key.kid, typ: 'JWT'},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({...header, alg: 'ES256'})
    .sign(await importJWK(key.privateJwk, 'ES256'))
}

async function refusalOf(token: string, verifier: AccessTokenIssuer = issuer): Promise<AccessTokenFailureReason> {
  try {
    await verifier.verify(token)
  } catch (error) {
    if (error instanceof AccessTokenError) return error.reason
    throw error
  }
  throw new Error('the token was accepted')
}

describe('issue', () => {
  it('signs with ES256, names the key and the type in the header', async () => {
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    expect(token.split('.')).toHaveLength(3)
    expect(decodeProtectedHeader(token)).toEqual({alg: 'ES256', kid: ourKey.kid, typ: 'JWT'})
  })

  it('carries exactly iss, aud, sub, sid, jti, iat and exp when not bound to an org', async () => {
    const {token, jti, expiresAt} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    expect(decodeJwt(token)).toEqual({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'user-1',
      sid: 'session-1',
      jti,
      iat: START_SECONDS,
      exp: START_SECONDS + 900,
    })
    expect(expiresAt.toISOString()).toBe('2020-01-01T00:15:00.000Z')
  })

  it('adds org and role only when bound', async () => {
    const bound = await issuer.issue({userId: 'user-1', sessionId: 'session-1', orgId: 'org-1', role: 'admin'})
    expect(decodeJwt(bound.token)).toMatchObject({org: 'org-1', role: 'admin'})
    const orgOnly = await issuer.issue({userId: 'user-1', sessionId: 'session-1', orgId: 'org-1', role: null})
    expect(decodeJwt(orgOnly.token)).toHaveProperty('org', 'org-1')
    expect(decodeJwt(orgOnly.token)).not.toHaveProperty('role')
    const unbound = await issuer.issue({userId: 'user-1', sessionId: 'session-1', orgId: null})
    expect(decodeJwt(unbound.token)).not.toHaveProperty('org')
  })

  it('uses a fresh UUIDv7 jti stamped with the clock time', async () => {
    clock.advance(1234)
    const first = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    const second = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    expect(isUuid(first.jti) && uuidVersion(first.jti)).toBe(7)
    expect(first.jti).not.toBe(second.jti)
    expect(decodeJwt(first.token).jti).toBe(first.jti)
    const timestampMs = Number.parseInt(first.jti.replaceAll('-', '').slice(0, 12), 16)
    expect(timestampMs).toBe(START.getTime() + 1234)
  })

  it('dates iat, the jti and exp from issuedAt when given, not from the clock', async () => {
    const readAt = new Date(START.getTime() + 1_500)
    clock.advance(7_250)
    const {token, jti, expiresAt} = await issuer.issue({userId: 'user-1', sessionId: 'session-1', issuedAt: readAt})
    const {iat, exp} = decodeJwt(token)
    expect({iat, exp}).toEqual({iat: START_SECONDS + 1, exp: START_SECONDS + 1 + 900})
    expect(Number.parseInt(jti.replaceAll('-', '').slice(0, 12), 16)).toBe(readAt.getTime())
    expect(expiresAt.getTime()).toBe((START_SECONDS + 1 + 900) * 1000)
    // Still a token this issuer accepts (verified against the clock, 7.25 s later).
    await expect(issuer.verify(token)).resolves.toMatchObject({jti, iat: START_SECONDS + 1})
  })

  it('refuses an invalid issuedAt', async () => {
    await expect(issuer.issue({userId: 'user-1', sessionId: 'session-1', issuedAt: new Date(Number.NaN)})).rejects.toThrow(TypeError)
    await expect(issuer.issue({userId: 'user-1', sessionId: 'session-1', issuedAt: '2020-01-01T00:00:00Z' as unknown as Date})).rejects.toThrow(TypeError)
  })

  // A service reads the member's role at T0 and signs after its transaction commits; a removal
  // committing in between logs a membership revocation at T1 > T0. Dated T0, the token is void.
  it('with issuedAt before a membership revocation, the revocation cache refuses the token; signed at the clock time after it, it would pass', async () => {
    const readAt = new Date(START.getTime() + 400)
    const removedAt = new Date(START.getTime() + 600)
    clock.set(new Date(START.getTime() + 900))
    const cache = createRevocationCache(clock)
    cache.apply([{seq: 1, kind: 'membership', subject: membershipSubject('org-1', 'user-1'), notBefore: removedAt.toISOString(), reason: 'member_removed', expiresAt: new Date(removedAt.getTime() + 900_000).toISOString()}])
    const datedAtRead = await issuer.issue({userId: 'user-1', sessionId: 'session-1', orgId: 'org-1', role: 'admin', issuedAt: readAt})
    expect(cache.findRevocation(await issuer.verify(datedAtRead.token))).toBe('membership_revoked')
    const datedAtSigning = await issuer.issue({userId: 'user-1', sessionId: 'session-1', orgId: 'org-1', role: 'admin'})
    expect(cache.findRevocation(await issuer.verify(datedAtSigning.token))).toBeNull()
  })

  it('honours a custom lifetime', async () => {
    const shortLived = createAccessTokenIssuer({
      issuer: ISSUER,
      audience: AUDIENCE,
      lifetimeSeconds: 60,
      clock,
      keyProvider: ring,
    })
    const {token, expiresAt} = await shortLived.issue({userId: 'user-1', sessionId: 'session-1'})
    const {iat, exp} = decodeJwt(token)
    expect((exp ?? 0) - (iat ?? 0)).toBe(60)
    expect(expiresAt.getTime()).toBe(START.getTime() + 60_000)
  })

  it.each([
    ['an empty user id', {userId: '', sessionId: 'session-1'}],
    ['an empty session id', {userId: 'user-1', sessionId: ''}],
    ['a role without an org', {userId: 'user-1', sessionId: 'session-1', role: 'admin'}],
    ['an empty org', {userId: 'user-1', sessionId: 'session-1', orgId: ''}],
  ])('refuses %s', async (_label, input) => {
    await expect(issuer.issue(input)).rejects.toThrow(TypeError)
  })

  it.each([[0], [-5], [1.5], [Number.NaN]])('refuses lifetimeSeconds %s', (lifetimeSeconds) => {
    expect(() =>
      createAccessTokenIssuer({issuer: ISSUER, audience: AUDIENCE, lifetimeSeconds, clock, keyProvider: ring}),
    ).toThrow(RangeError)
  })

  it('refuses to sign when the provider has no active key', async () => {
    ring.replaceKeys([{...ourKey, retiredAt: START}])
    await expect(issuer.issue({userId: 'user-1', sessionId: 'session-1'})).rejects.toThrow()
  })
})

describe('verify', () => {
  it('returns the claims of a token it issued', async () => {
    const {token, jti} = await issuer.issue({userId: 'user-1', sessionId: 'session-1', orgId: 'org-1', role: 'owner'})
    expect(await issuer.verify(token)).toEqual({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'user-1',
      sid: 'session-1',
      jti,
      iat: START_SECONDS,
      exp: START_SECONDS + 900,
      org: 'org-1',
      role: 'owner',
    })
  })

  it('omits org and role for an unbound token', async () => {
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    const claims = await issuer.verify(token)
    expect(claims).not.toHaveProperty('org')
    expect(claims).not.toHaveProperty('role')
  })

  it('judges expiry by the injected clock, not the wall clock', async () => {
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    // The premise: by the wall clock this 2020 token is long expired.
    await expect(jwtVerify(token, await importJWK(ourKey.publicJwk, 'ES256'))).rejects.toThrow(/exp/)
    expect((await issuer.verify(token)).sub).toBe('user-1')
  })

  it('drops claims it does not know', async () => {
    const token = await signES256({...validClaims(), admin: true, scope: 'everything'})
    const claims = await issuer.verify(token)
    expect(claims).not.toHaveProperty('admin')
    expect(claims).not.toHaveProperty('scope')
  })

  it('keeps verifying tokens of a retired key, and stops once the key is removed', async () => {
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    const nextKey = await generateSigningKey(clock)
    ring.replaceKeys([{...ourKey, retiredAt: clock.now()}, nextKey])
    expect((await issuer.verify(token)).sub).toBe('user-1')
    const fresh = await issuer.issue({userId: 'user-2', sessionId: 'session-2'})
    expect(decodeProtectedHeader(fresh.token).kid).toBe(nextKey.kid)
    ring.replaceKeys([nextKey])
    expect(await refusalOf(token)).toBe('unknown_key')
    expect((await issuer.verify(fresh.token)).sub).toBe('user-2')
  })

  it('lets a failing key provider error through as it is', async () => {
    const outage = new Error('database unreachable')
    const failing: SigningKeyProvider = {
      getSigningKey: () => ourKey,
      findVerificationKey: async () => {
        throw outage
      },
    }
    const verifier = createAccessTokenIssuer({issuer: ISSUER, audience: AUDIENCE, clock, keyProvider: failing})
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    await expect(verifier.verify(token)).rejects.toBe(outage)
  })
})

describe('verify refuses attacks', () => {
  it.each(['none', 'None', 'NONE', 'nOnE'])('alg "%s" (unsecured token)', async (alg) => {
    const header = encodeSegment({alg, kid: ourKey.kid, typ: 'JWT'})
    const unsigned = `${header}.${encodeSegment(validClaims())}.`
    expect(await refusalOf(unsigned)).toBe('bad_algorithm')
    // Even with a real signature of ours pasted on.
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    expect(await refusalOf(`${unsigned}${token.split('.')[2]}`)).toBe('bad_algorithm')
  })

  it('alg none as built by jose UnsecuredJWT', async () => {
    const unsecured = new UnsecuredJWT({sid: 'session-1'})
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('user-1')
      .setJti('jti-1')
      .setIssuedAt(START_SECONDS)
      .setExpirationTime(START_SECONDS + 900)
      .encode()
    expect(await refusalOf(unsecured)).toBe('bad_algorithm')
  })

  describe('HS256 signed with our public key as the HMAC secret (algorithm confusion)', () => {
    const publicKeyForms: Array<[string, () => string | Buffer]> = [
      ['SPKI PEM', () => createPublicKey({key: ourKey.publicJwk, format: 'jwk'}).export({type: 'spki', format: 'pem'})],
      ['SPKI DER', () => createPublicKey({key: ourKey.publicJwk, format: 'jwk'}).export({type: 'spki', format: 'der'})],
      ['JWK JSON', () => JSON.stringify(ourKey.publicJwk)],
      ['published JWK JSON', () => JSON.stringify({...ourKey.publicJwk, kid: ourKey.kid, alg: 'ES256', use: 'sig'})],
    ]
    it.each(publicKeyForms)('secret = %s', async (_label, secret) => {
      const signingInput = `${encodeSegment({alg: 'HS256', kid: ourKey.kid, typ: 'JWT'})}.${encodeSegment(validClaims())}`
      const signature = createHmac('sha256', secret()).update(signingInput).digest('base64url')
      expect(await refusalOf(`${signingInput}.${signature}`)).toBe('bad_algorithm')
    })
  })

  it.each(['ES384', 'RS256', 'PS256', 'EdDSA', 'HS512'])('any other alg in the header: %s', async (alg) => {
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    const [, payload, signature] = token.split('.')
    const forged = `${encodeSegment({alg, kid: ourKey.kid, typ: 'JWT'})}.${payload}.${signature}`
    expect(await refusalOf(forged)).toBe('bad_algorithm')
  })

  it('a token from another issuer signed with our key', async () => {
    const otherIssuer = createAccessTokenIssuer({issuer: 'https://evil.example', audience: AUDIENCE, clock, keyProvider: ring})
    const {token} = await otherIssuer.issue({userId: 'user-1', sessionId: 'session-1'})
    expect(await refusalOf(token)).toBe('wrong_issuer')
    const {iss: _dropped, ...withoutIssuer} = validClaims()
    expect(await refusalOf(await signES256(withoutIssuer))).toBe('wrong_issuer')
  })

  it('a token for another audience signed with our key', async () => {
    const otherAudience = createAccessTokenIssuer({issuer: ISSUER, audience: 'billing', clock, keyProvider: ring})
    const {token} = await otherAudience.issue({userId: 'user-1', sessionId: 'session-1'})
    expect(await refusalOf(token)).toBe('wrong_audience')
    expect(await refusalOf(await signES256({...validClaims(), aud: ['billing', 'reports']}))).toBe('wrong_audience')
    const {aud: _dropped, ...withoutAudience} = validClaims()
    expect(await refusalOf(await signES256(withoutAudience))).toBe('wrong_audience')
  })

  it('an expired token, from the second it expires', async () => {
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    clock.advance(899_999)
    expect((await issuer.verify(token)).sub).toBe('user-1')
    clock.advance(1)
    expect(await refusalOf(token)).toBe('expired')
    clock.advance(86_400_000)
    expect(await refusalOf(token)).toBe('expired')
  })

  it('a token signed with our key that lives longer than the configured lifetime (exp − iat), so no revocation entry would outlive it', async () => {
    expect((await issuer.verify(await signES256(validClaims()))).sub).toBe('user-1')
    expect(await refusalOf(await signES256({...validClaims(), exp: START_SECONDS + 901}))).toBe('lifetime_exceeded')
    expect(await refusalOf(await signES256({...validClaims(), exp: START_SECONDS + 86_400 * 365}))).toBe('lifetime_exceeded')
    // Issued under a longer setting, refused once the daemon runs with a shorter one.
    const longLived = createAccessTokenIssuer({issuer: ISSUER, audience: AUDIENCE, lifetimeSeconds: 3600, clock, keyProvider: ring})
    const {token} = await longLived.issue({userId: 'user-1', sessionId: 'session-1'})
    expect((await longLived.verify(token)).sub).toBe('user-1')
    expect(await refusalOf(token)).toBe('lifetime_exceeded')
  })

  it('a token signed with our key whose iat lies beyond the 60 s leeway ahead of the clock, so it would outlive the entries that revoke it', async () => {
    const ahead = (seconds: number) => ({...validClaims(), iat: START_SECONDS + seconds, exp: START_SECONDS + seconds + 900})
    // A signer whose clock runs a little ahead is met.
    expect((await issuer.verify(await signES256(ahead(ISSUED_AT_LEEWAY_SECONDS)))).sub).toBe('user-1')
    expect(await refusalOf(await signES256(ahead(ISSUED_AT_LEEWAY_SECONDS + 1)))).toBe('issued_in_future')
    expect(await refusalOf(await signES256(ahead(86_400 * 365)))).toBe('issued_in_future')
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1', issuedAt: new Date(START.getTime() + 3_600_000)})
    expect(await refusalOf(token)).toBe('issued_in_future')
    // Once the clock has caught up, the same token is good.
    clock.set(new Date(START.getTime() + 3_600_000))
    expect((await issuer.verify(token)).sub).toBe('user-1')
  })

  it.each([
    ['escalated role', {role: 'owner'}],
    ['another user', {sub: 'user-2'}],
    ['another org', {org: 'org-2'}],
    ['a later expiry', {exp: START_SECONDS + 86_400}],
  ])('a tampered payload: %s', async (_label, change) => {
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1', orgId: 'org-1', role: 'member'})
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    const tampered = `${header}.${encodeSegment({...claims, ...change})}.${signature}`
    expect(await refusalOf(tampered)).toBe('bad_signature')
  })

  it('a tampered header', async () => {
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    const [, payload, signature] = token.split('.')
    const tampered = `${encodeSegment({alg: 'ES256', kid: ourKey.kid, typ: 'JWT', extra: 1})}.${payload}.${signature}`
    expect(await refusalOf(tampered)).toBe('bad_signature')
  })

  it.each([
    ['all zeros', Buffer.alloc(64).toString('base64url')],
    ['empty', ''],
    ['truncated', 'AAAA'],
  ])('a forged signature: %s', async (_label, signature) => {
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    const [header, payload] = token.split('.')
    expect(await refusalOf(`${header}.${payload}.${signature}`)).toBe('bad_signature')
  })

  it('a token signed by a foreign key under its own kid', async () => {
    expect(await refusalOf(await signES256(validClaims(), foreignKey))).toBe('unknown_key')
  })

  it('a token signed by a foreign key claiming our kid', async () => {
    const forged = await signES256(validClaims(), foreignKey, {kid: ourKey.kid, typ: 'JWT'})
    expect(await refusalOf(forged)).toBe('bad_signature')
  })

  it('a token signed by a foreign key that embeds it (jwk, jku headers)', async () => {
    const forged = await signES256(validClaims(), foreignKey, {
      kid: ourKey.kid,
      typ: 'JWT',
      jwk: foreignKey.publicJwk,
      jku: 'https://evil.example/jwks.json',
    })
    expect(await refusalOf(forged)).toBe('bad_signature')
  })

  it.each([
    ['empty', ''],
    ['a word', 'garbage'],
    ['two segments', 'abc.def'],
    ['four segments', 'a.b.c.d'],
    ['only dots', '..'],
    ['non-JSON segments', 'a.b.c'],
    ['a JSON array header', `${encodeSegment(['ES256'])}.${encodeSegment(validClaims())}.AAAA`],
    ['a bearer prefix', 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.AAAA'],
    ['binary noise', Buffer.from(Array.from({length: 64}, (_, index) => index * 7)).toString('latin1')],
  ])('garbage: %s', async (_label, token) => {
    expect(await refusalOf(token)).toBe('malformed')
  })

  it('a value that is not a string at all', async () => {
    expect(await refusalOf(undefined as unknown as string)).toBe('malformed')
    expect(await refusalOf(42 as unknown as string)).toBe('malformed')
  })

  it('a signed payload that is not a JSON object', async () => {
    const token = await new CompactSign(new TextEncoder().encode('"just a string"'))
      .setProtectedHeader({alg: 'ES256', kid: ourKey.kid, typ: 'JWT'})
      .sign(await importJWK(ourKey.privateJwk, 'ES256'))
    expect(await refusalOf(token)).toBe('malformed')
  })

  it.each(['sub', 'sid', 'jti', 'iat', 'exp'])('a token signed with our key but without %s', async (claim) => {
    const claims = validClaims()
    delete claims[claim]
    expect(await refusalOf(await signES256(claims))).toBe('malformed')
  })

  it.each<[string, Record<string, unknown>]>([
    ['sub is a number', {sub: 42}],
    ['sid is null', {sid: null}],
    ['jti is empty', {jti: ''}],
    ['exp is a string', {exp: String(START_SECONDS + 900)}],
    ['org is a number', {org: 7}],
    ['role is an object', {role: {name: 'owner'}}],
  ])('a token signed with our key where %s', async (_label, change) => {
    expect(await refusalOf(await signES256({...validClaims(), ...change}))).toBe('malformed')
  })

  it('a token signed with our key but without kid, or without or with another typ', async () => {
    expect(await refusalOf(await signES256(validClaims(), ourKey, {typ: 'JWT'}))).toBe('malformed')
    expect(await refusalOf(await signES256(validClaims(), ourKey, {kid: ourKey.kid}))).toBe('malformed')
    expect(await refusalOf(await signES256(validClaims(), ourKey, {kid: ourKey.kid, typ: 'dpop+jwt'}))).toBe('malformed')
  })

  it('a key the provider holds under another algorithm', async () => {
    const mislabelled: SigningKeyProvider = {
      getSigningKey: () => ourKey,
      findVerificationKey: () => ({...ourKey, algorithm: 'RS256' as 'ES256'}),
    }
    const verifier = createAccessTokenIssuer({issuer: ISSUER, audience: AUDIENCE, clock, keyProvider: mislabelled})
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    expect(await refusalOf(token, verifier)).toBe('bad_algorithm')
  })
})
