import {createHash, createPrivateKey, createPublicKey, sign, verify} from 'node:crypto'
import {calculateJwkThumbprint, createLocalJWKSet, jwtVerify} from 'jose'
import {describe, expect, it} from 'vitest'
import {createAccessTokenIssuer} from '../../../src/security/access-tokens.js'
import {createFixedClock} from '../../../src/security/clock.js'
import {createSigningKeyRing} from '../../../src/security/signing-key-ring.js'
import {
  calculateKeyId,
  generateSigningKey,
  pickEcPublicMembers,
  toPublicJwks,
  type EcPublicJwk,
  type StoredSigningKey,
} from '../../../src/security/signing-keys.js'

const clock = createFixedClock(new Date('2030-01-01T00:00:00.000Z'))

describe('generateSigningKey', () => {
  it('makes an unretired ES256 key created at the clock time', async () => {
    const key = await generateSigningKey(clock)
    expect(key.algorithm).toBe('ES256')
    expect(key.createdAt.toISOString()).toBe('2030-01-01T00:00:00.000Z')
    expect(key.retiredAt).toBeNull()
    expect(Object.keys(key.publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y'])
    expect(Object.keys(key.privateJwk).sort()).toEqual(['crv', 'd', 'kty', 'x', 'y'])
    expect(key.publicJwk).toMatchObject({kty: 'EC', crv: 'P-256'})
    expect(key.privateJwk).toMatchObject(key.publicJwk)
  })

  it('derives kid as the RFC 7638 thumbprint of the public key', async () => {
    const key = await generateSigningKey(clock)
    // RFC 7638 §3.2: required members only, lexicographic order, no whitespace.
    const {crv, kty, x, y} = key.publicJwk
    const canonical = JSON.stringify({crv, kty, x, y})
    expect(key.kid).toBe(createHash('sha256').update(canonical).digest('base64url'))
    expect(key.kid).toBe(await calculateJwkThumbprint(key.publicJwk))
    expect(await calculateKeyId(key.publicJwk)).toBe(key.kid)
  })

  it('gives the private half that signs for the public half', async () => {
    const key = await generateSigningKey(clock)
    const message = Buffer.from('signed by saas-ctl')
    const signature = sign('sha256', message, createPrivateKey({key: key.privateJwk, format: 'jwk'}))
    expect(verify('sha256', message, createPublicKey({key: key.publicJwk, format: 'jwk'}), signature)).toBe(true)
    const other = await generateSigningKey(clock)
    expect(verify('sha256', message, createPublicKey({key: other.publicJwk, format: 'jwk'}), signature)).toBe(false)
  })

  it('never repeats a key', async () => {
    const keys = await Promise.all(Array.from({length: 5}, () => generateSigningKey(clock)))
    expect(new Set(keys.map((key) => key.kid)).size).toBe(5)
    expect(new Set(keys.map((key) => key.privateJwk.d)).size).toBe(5)
  })
})

describe('toPublicJwks', () => {
  it('publishes only public members, with kid, alg and use', async () => {
    const keys = [await generateSigningKey(clock), await generateSigningKey(clock)]
    const jwks = toPublicJwks(keys)
    expect(jwks.keys).toHaveLength(2)
    jwks.keys.forEach((jwk, index) => {
      const key = keys[index] as StoredSigningKey
      expect(jwk).toEqual({...key.publicJwk, kid: key.kid, alg: 'ES256', use: 'sig'})
      expect(jwk).not.toHaveProperty('d')
    })
    const serialized = JSON.stringify(jwks)
    expect(serialized).not.toMatch(/"d"/)
    for (const key of keys) expect(serialized).not.toContain(key.privateJwk.d)
  })

  it('drops private material even when a caller passes it in as the public key', async () => {
    const key = await generateSigningKey(clock)
    const mixedUp = {...key, publicJwk: {...key.privateJwk, key_ops: ['sign'], ext: true}}
    const jwks = toPublicJwks([mixedUp])
    expect(Object.keys(jwks.keys[0] ?? {}).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
    expect(JSON.stringify(jwks)).not.toContain(key.privateJwk.d)
  })

  it('is an empty set for no keys', () => {
    expect(toPublicJwks([])).toEqual({keys: []})
  })

  it('lets another service verify our access tokens offline', async () => {
    const current = await generateSigningKey(clock)
    const issuer = createAccessTokenIssuer({
      issuer: 'https://id.example.test',
      audience: 'api',
      clock,
      keyProvider: createSigningKeyRing([current]),
    })
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    const published = JSON.parse(JSON.stringify(toPublicJwks([current])))
    const {payload} = await jwtVerify(token, createLocalJWKSet(published), {
      issuer: 'https://id.example.test',
      audience: 'api',
      currentDate: clock.now(),
    })
    expect(payload.sub).toBe('user-1')
  })
})

describe('pickEcPublicMembers', () => {
  it.each([
    ['an RSA key', {kty: 'RSA', n: 'AQAB', e: 'AQAB'}],
    ['another curve', {kty: 'EC', crv: 'P-384', x: 'a', y: 'b'}],
    ['a missing coordinate', {kty: 'EC', crv: 'P-256', x: 'a'}],
    ['a symmetric key', {kty: 'oct', k: 'c2VjcmV0'}],
  ])('refuses %s', (_label, jwk) => {
    expect(() => pickEcPublicMembers(jwk)).toThrow(TypeError)
  })

  it('keeps exactly kty, crv, x, y', () => {
    const jwk: EcPublicJwk & {d: string; kid: string} = {kty: 'EC', crv: 'P-256', x: 'X', y: 'Y', d: 'D', kid: 'K'}
    expect(pickEcPublicMembers(jwk)).toEqual({kty: 'EC', crv: 'P-256', x: 'X', y: 'Y'})
  })
})
