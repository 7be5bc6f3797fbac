import {describe, expect, it} from 'vitest'
import {
  checkPasswordStrength,
  isWithinPasswordMaxLength,
  normalizePassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
} from '../../../src/security/password-policy.js'

describe('checkPasswordStrength', () => {
  it('follows the documented limits', () => {
    expect(PASSWORD_MIN_LENGTH).toBe(8)
    expect(PASSWORD_MAX_LENGTH).toBe(1024)
  })

  it.each([
    ['empty', ''],
    ['seven characters', 'a'.repeat(7)],
    ['one past the maximum', 'a'.repeat(1025)],
    ['a huge body', 'a'.repeat(10_000_000)],
  ])('refuses %s', (_label, plain) => {
    expect(checkPasswordStrength(plain)).toEqual(expect.any(String))
  })

  it.each([
    ['eight characters', 'a'.repeat(8)],
    ['exactly the maximum', 'a'.repeat(1024)],
    ['a passphrase with spaces', 'correct horse battery staple'],
    ['only digits (no composition rules)', '12345678'],
  ])('accepts %s', (_label, plain) => {
    expect(checkPasswordStrength(plain)).toBeNull()
  })

  it('counts code points, not UTF-16 units', () => {
    // Each emoji is two UTF-16 units.
    expect(checkPasswordStrength('🔑'.repeat(4))).not.toBeNull()
    expect(checkPasswordStrength('🔑'.repeat(8))).toBeNull()
    expect(checkPasswordStrength('🔑'.repeat(1024))).toBeNull()
    expect(checkPasswordStrength('🔑'.repeat(1025))).not.toBeNull()
  })

  it('counts after NFKC normalization', () => {
    // 'e' + combining acute is one character once composed: 14 code points typed, 7 counted.
    expect(checkPasswordStrength('e\u0301'.repeat(7))).not.toBeNull()
    expect(checkPasswordStrength('e\u0301'.repeat(8))).toBeNull()
  })

  it('never echoes the password in its message', () => {
    expect(checkPasswordStrength('hunter2')).not.toContain('hunter2')
  })
})

describe('normalizePassword', () => {
  it('maps equivalent spellings to one form', () => {
    expect(normalizePassword('cafe\u0301')).toBe(normalizePassword('caf\u00e9'))
    expect(normalizePassword('\uFB01le')).toBe('file')
  })
})

describe('isWithinPasswordMaxLength', () => {
  it('agrees with the maximum', () => {
    expect(isWithinPasswordMaxLength('a'.repeat(1024))).toBe(true)
    expect(isWithinPasswordMaxLength('a'.repeat(1025))).toBe(false)
  })
})
