import {describe, expect, it} from 'vitest'
import {generateOpaqueToken, hashToken, timingSafeEqualStrings} from '../../../src/security/secure-token.js'

describe('generateOpaqueToken', () => {
  it('encodes 32 random bytes as unpadded base64url by default', () => {
    const token = generateOpaqueToken()
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(token, 'base64url')).toHaveLength(32)
  })

  it('honours the requested size', () => {
    const token = generateOpaqueToken(48)
    expect(token).toMatch(/^[A-Za-z0-9_-]{64}$/)
    expect(Buffer.from(token, 'base64url')).toHaveLength(48)
  })

  it('refuses fewer than 128 bits and fractional sizes', () => {
    expect(generateOpaqueToken(16)).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(() => generateOpaqueToken(15)).toThrow(RangeError)
    expect(() => generateOpaqueToken(0)).toThrow(RangeError)
    expect(() => generateOpaqueToken(32.5)).toThrow(RangeError)
  })

  it('does not repeat', () => {
    const tokens = new Set(Array.from({length: 2000}, () => generateOpaqueToken()))
    expect(tokens.size).toBe(2000)
  })
})

describe('hashToken', () => {
  it('is lowercase hex SHA-256 of the UTF-8 token', () => {
    // FIPS 180-2 test vector.
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('is deterministic and distinguishes tokens', () => {
    const token = generateOpaqueToken()
    expect(hashToken(token)).toBe(hashToken(token))
    expect(hashToken(token)).not.toBe(hashToken(`${token}x`))
    expect(hashToken(token)).not.toContain(token)
  })
})

describe('timingSafeEqualStrings', () => {
  it('is true only for identical strings', () => {
    const token = generateOpaqueToken()
    expect(timingSafeEqualStrings(token, token)).toBe(true)
    expect(timingSafeEqualStrings(token, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toBe(false)
    expect(timingSafeEqualStrings('', '')).toBe(true)
    expect(timingSafeEqualStrings('é', 'e\u0301')).toBe(false)
  })

  it('compares strings of different lengths without throwing', () => {
    expect(timingSafeEqualStrings('short', 'a much longer secret value')).toBe(false)
    expect(timingSafeEqualStrings('', 'x')).toBe(false)
    expect(timingSafeEqualStrings('abc', 'abcd')).toBe(false)
  })
})
