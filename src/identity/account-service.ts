import type {AuditLog} from '../audit/audit-log.js'
import type {MailOutbox} from '../mail/mail-outbox.js'
import type {PasswordHasher} from '../security/password-hasher.js'
import type {ServiceDeps} from '../shared/service-deps.js'
import {createEmailChanges} from './email-change.js'
import type {PasswordConfirmation} from './password-confirmation.js'
import {createEmailVerificationService} from './email-verification-service.js'
import {createPasswordResetService} from './password-reset-service.js'
import type {RevocationSignal} from './revocation-signal.js'

export interface AccountServiceDeps extends ServiceDeps {
  audit: AuditLog
  mail: Pick<MailOutbox, 'enqueue'>
  passwords: Pick<PasswordHasher, 'hashPassword' | 'verifyPassword'>
  /** The password typed again for an email change: guarded like a login. */
  passwordConfirmation: PasswordConfirmation
  revocationSignal: RevocationSignal
  /** Links in mails start with it. */
  publicUrl: string
  emailVerificationTtlSeconds: number
  passwordResetTtlSeconds: number
  failedAttemptsPerMinute: number
  accessTokenTtlSeconds: number
}

export type AccountService = ReturnType<typeof createAccountService>

/**
 * The account's email and password outside a session's ordinary use (`core.account`): email
 * verification, password reset by mailed link, and email changes. Each lives in its own
 * module; registration (authentication-service.ts) and `user update` (user-service.ts) use
 * the verification and the email change from here.
 */
export function createAccountService(deps: AccountServiceDeps) {
  const emailVerification = createEmailVerificationService(deps)
  const passwordReset = createPasswordResetService(deps)
  const emailChanges = createEmailChanges({...deps, emailVerification})
  return {
    emailVerification,
    emailChanges,
    verifyEmail: emailVerification.verifyEmail,
    resendVerification: emailVerification.resendVerification,
    requestPasswordReset: passwordReset.requestPasswordReset,
    resetPassword: passwordReset.resetPassword,
    changeOwnEmail: emailChanges.changeOwnEmail,
    /** Deletes a user's one-time tokens with the user. */
    purgeHook: emailVerification.purgeHook,
  }
}
