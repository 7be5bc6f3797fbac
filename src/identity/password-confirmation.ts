import type {RequestOrigin} from '../access/principal.js'
import {DomainError} from '../errors/domain-error.js'
import type {PasswordHasher} from '../security/password-hasher.js'
import {loginIdentifierHash, type LoginGuard} from './login-guard.js'

export type PasswordConfirmation = ReturnType<typeof createPasswordConfirmation>

/**
 * A signed-in user typing their password again to confirm a change (change-password, email
 * change). It is guarded like a login: a stolen access token must not become an unlimited
 * password oracle. So a wrong password counts toward the login's minute budget and its lock
 * (keyed by the account's email, as logins are), and a locked account is refused here too.
 */
export function createPasswordConfirmation(deps: {guard: Pick<LoginGuard, 'assertMayAttempt' | 'recordFailure'>; passwords: Pick<PasswordHasher, 'verifyPassword'>}) {
  return {
    /** Raises auth.too_many_attempts (locked or over budget) or auth.invalid_credentials (wrong). */
    async confirmPassword(user: {id: string; email: string; password_hash: string | null}, password: string, origin: RequestOrigin): Promise<void> {
      const identifierHash = loginIdentifierHash(user.email)
      const attempt = {step: 'login' as const, identifierHash, lockoutHash: identifierHash, user: {id: user.id, email: user.email}, origin}
      await deps.guard.assertMayAttempt(attempt)
      if ((await deps.passwords.verifyPassword(user.password_hash, password)).ok) return
      await deps.guard.recordFailure(attempt)
      throw new DomainError('auth.invalid_credentials', 'Invalid email or password')
    },
  }
}
