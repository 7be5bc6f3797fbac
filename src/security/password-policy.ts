/**
 * What a new password must satisfy, following NIST SP 800-63B: a length floor and ceiling,
 * no composition rules. Lengths count Unicode code points after NFKC normalization, so
 * "é" typed on any keyboard counts once and hashes the same.
 */
export const PASSWORD_MIN_LENGTH = 8
export const PASSWORD_MAX_LENGTH = 1024

/**
 * No password within the limit can be longer than this many UTF-16 code units before
 * normalization; beyond it we refuse without normalizing, so a huge body costs nothing.
 */
const RAW_LENGTH_CEILING = PASSWORD_MAX_LENGTH * 4

/**
 * The canonical form of a password, used both when hashing and when verifying.
 * Changing it would invalidate stored hashes, so it never changes.
 */
export function normalizePassword(plain: string): string {
  return plain.normalize('NFKC')
}

/** Whether `plain` fits under PASSWORD_MAX_LENGTH (in code points, after normalization). */
export function isWithinPasswordMaxLength(plain: string): boolean {
  if (plain.length > RAW_LENGTH_CEILING) return false
  return countCodePoints(normalizePassword(plain)) <= PASSWORD_MAX_LENGTH
}

/**
 * Returns null when `plain` is acceptable as a new password, otherwise a message that is safe
 * to show to the user (it never echoes the password).
 */
export function checkPasswordStrength(plain: string): string | null {
  if (!isWithinPasswordMaxLength(plain)) {
    return `Password must be at most ${PASSWORD_MAX_LENGTH} characters long.`
  }
  if (countCodePoints(normalizePassword(plain)) < PASSWORD_MIN_LENGTH) {
    return `Password must be at least ${PASSWORD_MIN_LENGTH} characters long.`
  }
  return null
}

function countCodePoints(text: string): number {
  let count = 0
  for (const _codePoint of text) count++
  return count
}
