import type {RequestOrigin} from '../access/principal.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import type {PasswordHasher} from '../security/password-hasher.js'
import type {ServiceDeps} from '../shared/service-deps.js'
import {loginIdentifierHash, WRONG_GUESS, type LoginGuard} from './login-guard.js'

export type PasswordConfirmation = ReturnType<typeof createPasswordConfirmation>

const invalidCredentials = () => new DomainError('auth.invalid_credentials', 'Invalid email or password')

/**
 * A signed-in user typing their password again to confirm a change (change-password, email
 * change, turning 2FA on or off, new recovery codes). It is guarded like a login, through the
 * same reservation (LoginGuard.guarded): a stolen access token must not become an unlimited
 * password oracle. So a wrong password counts toward the login's minute budget and its lock
 * (keyed by the account's email, as logins are), concurrent guesses cannot overrun either, and
 * a locked account is refused here too.
 */
export function createPasswordConfirmation(deps: Pick<ServiceDeps, 'db'> & {guard: Pick<LoginGuard, 'guarded' | 'assertNotLockedMeanwhile' | 'confirmSuccess'>; passwords: Pick<PasswordHasher, 'verifyPassword'>}) {
  return {
    /**
     * Raises auth.too_many_attempts (locked, about to lock, or over the minute's budget: before
     * the password is checked) or auth.invalid_credentials (wrong, or the account was locked
     * while it was being checked). A right one does not reset the failure count (it is no
     * login): only this attempt's reservation is taken back.
     */
    async confirmPassword(user: {id: string; email: string; password_hash: string | null}, password: string, origin: RequestOrigin): Promise<void> {
      const identifierHash = loginIdentifierHash(user.email)
      const attempt = {step: 'login' as const, identifierHash, lockoutHash: identifierHash, user: {id: user.id, email: user.email}, origin}
      await deps.guard.guarded(
        attempt,
        async (reservation) => {
          if (!(await deps.passwords.verifyPassword(user.password_hash, password)).ok) return WRONG_GUESS
          await inTransaction(deps.db, async (tx) => {
            await deps.guard.assertNotLockedMeanwhile(tx, identifierHash)
            await deps.guard.confirmSuccess(tx, reservation, {isLoginComplete: false})
          })
        },
        invalidCredentials,
      )
    },
  }
}
