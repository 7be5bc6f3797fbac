import {describe, expect, it, vi} from 'vitest'
import {countCommonPasswordLines, loadCommonPasswords, locateCommonPasswordsFile} from '../../../src/security/common-passwords.js'
import {
  assertNewPassword,
  checkNewPassword,
  checkPasswordStrength,
  isWithinPasswordMaxLength,
  normalizePassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  STORED_PASSWORD_MAX_LENGTH,
} from '../../../src/security/password-policy.js'

// New passwords after NIST SP 800-63B: 8–256 code points after NFKC, no composition rules, not
// the account's email, not on the shipped list of common and breached passwords.

describe('checkNewPassword', () => {
  it('follows the documented limits', () => {
    expect(PASSWORD_MIN_LENGTH).toBe(8)
    expect(PASSWORD_MAX_LENGTH).toBe(256)
    expect(STORED_PASSWORD_MAX_LENGTH).toBe(1024)
  })

  it.each([
    ['empty', '', 'too_short'],
    ['seven characters', 'Zq7$kP2', 'too_short'],
    ['one past the maximum', 'a'.repeat(257), 'too_long'],
    ['a huge body', 'a'.repeat(10_000_000), 'too_long'],
  ])('refuses %s (%s)', (_label, plain, rule) => {
    expect(checkNewPassword(plain)).toMatchObject({rule, message: expect.any(String)})
  })

  it.each([
    ['eight characters', 'Zq7$kP2w'],
    ['exactly the maximum', 'Zq7$kP2w'.repeat(32)],
    ['a passphrase with spaces', 'correct horse battery staple'],
    ['only digits (no composition rules)', '90417263'],
    ['only lowercase letters (no composition rules)', 'plumvortexsaga'],
  ])('accepts %s', (_label, plain) => {
    expect(checkNewPassword(plain)).toBeNull()
  })

  it('counts code points, not UTF-16 units (8 and 256 emoji)', () => {
    // Each emoji is two UTF-16 units.
    expect(checkNewPassword('🔑'.repeat(7))).toMatchObject({rule: 'too_short'})
    expect(checkNewPassword('🔑'.repeat(8))).toBeNull()
    expect(checkNewPassword('🔑'.repeat(256))).toBeNull()
    expect(checkNewPassword('🔑'.repeat(257))).toMatchObject({rule: 'too_long'})
  })

  it('counts after NFKC normalization', () => {
    // 'e' + combining acute is one character once composed: 14 code points typed, 7 counted.
    expect(checkNewPassword('e\u0301'.repeat(7))).toMatchObject({rule: 'too_short'})
    expect(checkNewPassword('e\u0301'.repeat(8))).toBeNull()
    // A ligature expands: 'ﬁ' is 'fi' after NFKC, so 4 typed count 8 (and 'fifififi' is on the list).
    expect(checkNewPassword('\uFB01'.repeat(3))).toMatchObject({rule: 'too_short'})
    expect(checkNewPassword('\uFB01'.repeat(4))).toMatchObject({rule: 'too_common'})
    expect(checkNewPassword('\uFB01x\uFB01y\uFB01z')).toBeNull()
  })

  it('refuses the account email and its name part, in any case and width', () => {
    expect(checkNewPassword('ada.lovelace@example.com', {email: 'ada.lovelace@example.com'})).toMatchObject({rule: 'equals_email'})
    expect(checkNewPassword('ADA.Lovelace@Example.COM', {email: 'ada.lovelace@example.com'})).toMatchObject({rule: 'equals_email'})
    expect(checkNewPassword('Ada.Lovelace', {email: 'ada.lovelace@example.com'})).toMatchObject({rule: 'equals_email'})
    // Fullwidth letters fold to ASCII under NFKC.
    expect(checkNewPassword('ａｄａ.ｌｏｖｅｌａｃｅ', {email: 'ada.lovelace@example.com'})).toMatchObject({rule: 'equals_email'})
    expect(checkNewPassword('ada.lovelace is my name', {email: 'ada.lovelace@example.com'})).toBeNull()
    expect(checkNewPassword('ada.lovelace@example.com')).toBeNull()
  })

  it.each(['password123', 'iloveyou', 'qwertyuiop', '12345678', 'PASSWORD123', 'Sunshine', 'trustno1!'.slice(0, 8), 'michael1'])('refuses %s as too common', (plain) => {
    expect(checkNewPassword(plain)).toMatchObject({rule: 'too_common'})
  })

  it('never echoes the password in its message', () => {
    for (const plain of ['hunter2', 'password123', 'x'.repeat(300), 'ada@example.com']) {
      expect(checkNewPassword(plain, {email: 'ada@example.com'})?.message).not.toContain(plain)
    }
  })

  it('assertNewPassword raises password.too_weak naming the rule and the field', () => {
    expect(() => assertNewPassword('password123')).toThrow(expect.objectContaining({code: 'password.too_weak', details: {rule: 'too_common', field: 'password'}}))
    expect(() => assertNewPassword('short', {field: 'new_password'})).toThrow(expect.objectContaining({code: 'password.too_weak', details: {rule: 'too_short', field: 'new_password'}}))
    expect(() => assertNewPassword('correct horse battery staple')).not.toThrow()
  })

  it('checkPasswordStrength gives just the message', () => {
    expect(checkPasswordStrength('short')).toEqual(expect.any(String))
    expect(checkPasswordStrength('correct horse battery staple')).toBeNull()
  })
})

describe('the common-password list', () => {
  it('ships with the package and holds at least 100,000 passwords', () => {
    expect(locateCommonPasswordsFile()).toMatch(/data[\\/]common-passwords\.txt$/)
    expect(countCommonPasswordLines()).toBeGreaterThanOrEqual(100_000)
    // Case-folded, a few entries coincide (Password, PASSWORD, password).
    expect(loadCommonPasswords().size).toBeGreaterThan(95_000)
  })

  it('is read once and then reused', () => {
    expect(loadCommonPasswords()).toBe(loadCommonPasswords())
  })

  it('is not read until a new password gets as far as the list', async () => {
    vi.resetModules()
    const fresh = await import('../../../src/security/common-passwords.js')
    const policy = await import('../../../src/security/password-policy.js')
    // Importing (as every CLI call does through the core) and refusing by length read nothing.
    expect(policy.checkNewPassword('short')).toMatchObject({rule: 'too_short'})
    expect(fresh.isCommonPasswordListLoaded()).toBe(false)
    expect(policy.checkNewPassword('correct horse battery staple')).toBeNull()
    expect(fresh.isCommonPasswordListLoaded()).toBe(true)
  })
})

describe('normalizePassword', () => {
  it('maps equivalent spellings to one form', () => {
    expect(normalizePassword('cafe\u0301')).toBe(normalizePassword('caf\u00e9'))
    expect(normalizePassword('\uFB01le')).toBe('file')
  })
})

describe('isWithinPasswordMaxLength (what the hasher still verifies)', () => {
  it('keeps accepting stored passwords up to 1024 code points', () => {
    expect(isWithinPasswordMaxLength('a'.repeat(1024))).toBe(true)
    expect(isWithinPasswordMaxLength('a'.repeat(1025))).toBe(false)
  })
})
