import {CompactSign, decodeJwt, importJWK} from 'jose'
import {beforeAll, describe, expect, it} from 'vitest'
import {createAccessTokenIssuer, type AccessTokenIssuer} from '../../../src/security/access-tokens.js'
import {createFixedClock} from '../../../src/security/clock.js'
import {createSigningKeyRing} from '../../../src/security/signing-key-ring.js'
import {generateSigningKey, type StoredSigningKey} from '../../../src/security/signing-keys.js'

// The email_verified claim (OpenID's name): carried when the issuer is told, checked for type
// when verified, absent from tokens issued without it.

const START = new Date('2020-01-01T00:00:00.000Z')
let key: StoredSigningKey
let issuer: AccessTokenIssuer

beforeAll(async () => {
  const clock = createFixedClock(START)
  key = await generateSigningKey(clock)
  issuer = createAccessTokenIssuer({issuer: 'https://id.example.test', audience: 'saas-ctl', clock, keyProvider: createSigningKeyRing([key])})
})

describe('the email_verified claim', () => {
  it.each([true, false])('is carried as the boolean %s and read back by verify', async (emailVerified) => {
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1', emailVerified})
    expect(decodeJwt(token).email_verified).toBe(emailVerified)
    expect((await issuer.verify(token)).email_verified).toBe(emailVerified)
  })

  it('is absent when the issuer is not told', async () => {
    const {token} = await issuer.issue({userId: 'user-1', sessionId: 'session-1'})
    expect('email_verified' in decodeJwt(token)).toBe(false)
    expect('email_verified' in (await issuer.verify(token))).toBe(false)
  })

  it('refuses a signed token whose email_verified is not a boolean', async () => {
    const iat = START.getTime() / 1000
    const payload = {iss: 'https://id.example.test', aud: 'saas-ctl', sub: 'user-1', sid: 'session-1', jti: '0190f1e8-0000-7000-8000-000000000001', iat, exp: iat + 900, email_verified: 'true'}
    const privateKey = await importJWK(key.privateJwk, 'ES256')
    const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({alg: 'ES256', kid: key.kid, typ: 'JWT'}).sign(privateKey)
    await expect(issuer.verify(token)).rejects.toMatchObject({reason: 'malformed'})
  })
})
