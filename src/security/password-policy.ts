import {DomainError} from '../errors/domain-error.js'
import {isCommonPassword} from './common-passwords.js'

/**
 * What a new password must satisfy, following NIST SP 800-63B §5.1.1.2: 8 to 256 characters,
 * no composition rules, and not a value attackers try first (the account's email, or a
 * password from the list of common and breached ones). Lengths count Unicode code points after
 * NFKC normalization, so "é" typed on any keyboard counts once and hashes the same.
 */
export const PASSWORD_MIN_LENGTH = 8
export const PASSWORD_MAX_LENGTH = 256

/**
 * The longest password the hasher still hashes and verifies: accounts made while the limit
 * for new passwords was 1024 keep logging in with theirs.
 */
export const STORED_PASSWORD_MAX_LENGTH = 1024

/**
 * No password within the stored limit can be longer than this many UTF-16 code units before
 * normalization; beyond it we refuse without normalizing, so a huge body costs nothing.
 */
const RAW_LENGTH_CEILING = STORED_PASSWORD_MAX_LENGTH * 4

/** Which rule a refused new password broke (details.rule of password.too_weak). */
export type PasswordRule = 'too_short' | 'too_long' | 'equals_email' | 'too_common'

export interface PasswordProblem {
  rule: PasswordRule
  /** Safe to show to the user: it never echoes the password. */
  message: string
}

/** What a new password is compared with besides the list: the account's own email address. */
export interface PasswordContext {
  email?: string | null
}

/**
 * The canonical form of a password, used both when hashing and when verifying.
 * Changing it would invalidate stored hashes, so it never changes.
 */
export function normalizePassword(plain: string): string {
  return plain.normalize('NFKC')
}

/**
 * Whether the hasher accepts `plain`: at most STORED_PASSWORD_MAX_LENGTH code points after
 * normalization. New passwords are held to PASSWORD_MAX_LENGTH by checkNewPassword.
 */
export function isWithinPasswordMaxLength(plain: string): boolean {
  if (plain.length > RAW_LENGTH_CEILING) return false
  return countCodePoints(normalizePassword(plain)) <= STORED_PASSWORD_MAX_LENGTH
}

/**
 * Returns null when `plain` is acceptable as a new password, otherwise the rule it breaks
 * with a message safe to show. The common-password list is read on the first call that gets
 * that far (never by commands that set no password).
 */
export function checkNewPassword(plain: string, context: PasswordContext = {}): PasswordProblem | null {
  if (plain.length > PASSWORD_MAX_LENGTH * 4) return tooLong()
  const normalized = normalizePassword(plain)
  const length = countCodePoints(normalized)
  if (length > PASSWORD_MAX_LENGTH) return tooLong()
  if (length < PASSWORD_MIN_LENGTH) return {rule: 'too_short', message: `Password must be at least ${PASSWORD_MIN_LENGTH} characters long.`}
  const folded = normalized.toLowerCase()
  if (context.email && isEmailLike(folded, context.email)) return {rule: 'equals_email', message: 'Password must not be your email address or its name part.'}
  if (isCommonPassword(folded)) return {rule: 'too_common', message: 'Password is too common: it appears in lists of breached and often-used passwords. Choose another, e.g. a phrase of several words.'}
  return null
}

/**
 * Raises password.too_weak (details: rule and field) unless `plain` is acceptable as a new
 * password. `field` names the input it came from (password, new_password).
 */
export function assertNewPassword(plain: string, context: PasswordContext & {field?: string} = {}): void {
  const problem = checkNewPassword(plain, context)
  if (problem) throw new DomainError('password.too_weak', problem.message, {rule: problem.rule, field: context.field ?? 'password'})
}

/** The message of checkNewPassword's problem, or null (for callers that only show text). */
export function checkPasswordStrength(plain: string, context: PasswordContext = {}): string | null {
  return checkNewPassword(plain, context)?.message ?? null
}

function tooLong(): PasswordProblem {
  return {rule: 'too_long', message: `Password must be at most ${PASSWORD_MAX_LENGTH} characters long.`}
}

/** The password, case-folded, is the email or the part before its @ (both normalized the same way). */
function isEmailLike(foldedPassword: string, email: string): boolean {
  const foldedEmail = normalizePassword(email.trim()).toLowerCase()
  const at = foldedEmail.lastIndexOf('@')
  const localPart = at > 0 ? foldedEmail.slice(0, at) : foldedEmail
  return foldedPassword === foldedEmail || foldedPassword === localPart
}

function countCodePoints(text: string): number {
  let count = 0
  for (const _codePoint of text) count++
  return count
}
