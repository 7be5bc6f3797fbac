import type {Kysely} from 'kysely'
import {z} from 'zod'
import {userActor, type Actor, type RequestOrigin} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database, UserAccountRow} from '../db/database.js'
import {lockUser} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import type {MailOutbox} from '../mail/mail-outbox.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {emailChangedNoticeMail} from './account-mails.js'
import type {EmailVerificationService} from './email-verification-service.js'
import type {PasswordConfirmation} from './password-confirmation.js'
import {voidOneTimeTokens} from './one-time-token-repo.js'
import {emailTaken, withUniqueEmail} from './user-creation.js'
import {changeUserEmail, findUserByEmail, findUserById, toUser, type User} from './user-repo.js'
import {emailSchema} from './user-schemas.js'

export const changeEmailSchema = z.object({
  email: emailSchema,
  password: z.string().min(1, 'must not be empty').max(4096),
})
export type ChangeEmailInput = z.input<typeof changeEmailSchema>

export interface EmailChangeDeps extends ServiceDeps {
  audit: AuditLog
  mail: Pick<MailOutbox, 'enqueue'>
  emailVerification: Pick<EmailVerificationService, 'sendVerification'>
}

export type EmailChanges = ReturnType<typeof createEmailChanges>

/**
 * Changing an account's email address, by an operator (`user update --email`) or by the user
 * (POST /v1/auth/email): the new address is not verified until its link is followed.
 */
export function createEmailChanges(deps: EmailChangeDeps & {passwordConfirmation: PasswordConfirmation}) {
  const {db} = deps

  /**
   * Inside the caller's transaction (the user row locked): gives the user `newEmail`, clears
   * email_verified_at, voids earlier verification and reset links, mails a verification link
   * to the new address and a notice to the old one, and audits user.email_changed.
   */
  async function applyEmailChange(tx: Kysely<Database>, actor: Actor, user: UserAccountRow, newEmail: string): Promise<UserAccountRow> {
    const now = nowIso(deps)
    await changeUserEmail(tx, user.id, newEmail, now)
    await voidOneTimeTokens(tx, user.id, 'password_reset', now)
    await deps.emailVerification.sendVerification(tx, {id: user.id, email: newEmail})
    await deps.mail.enqueue(tx, emailChangedNoticeMail(user, user.email, newEmail))
    await deps.audit.append(tx, actor, {
      action: 'user.email_changed',
      target: {type: 'user', id: user.id},
      metadata: {from: user.email, to: newEmail, was_verified: user.email_verified_at !== null},
    })
    return {...user, email: newEmail, email_verified_at: null, updated_at: now}
  }

  return {
    applyEmailChange,

    /**
     * The signed-in user changes their own address, confirming it with their password. The
     * same address again changes nothing. Raises validation.failed, auth.invalid_credentials
     * (wrong password, or it changed meanwhile), user.email_taken, auth.invalid_token (the
     * account is gone or disabled).
     */
    async changeOwnEmail(caller: {userId: string; sessionId: string}, origin: RequestOrigin, input: ChangeEmailInput): Promise<User> {
      const parsed = validateInput(changeEmailSchema, input)
      const user = await findUserById(db, caller.userId)
      if (!user || user.disabled_at) throw new DomainError('auth.invalid_token', 'The account is not active', {reason: 'user_revoked'})
      await deps.passwordConfirmation.confirmPassword(user, parsed.password, origin)
      if (parsed.email === user.email) return toUser(user)
      return withUniqueEmail(parsed.email, () =>
        inTransaction(db, async (tx) => {
          await lockUser(tx, user.id)
          const current = await findUserById(tx, user.id)
          if (!current || current.disabled_at) throw new DomainError('auth.invalid_token', 'The account is not active', {reason: 'user_revoked'})
          // The password was checked against the hash read before: one changed since does not count.
          if (current.password_hash !== user.password_hash) throw new DomainError('auth.invalid_credentials', 'Invalid email or password')
          if (await findUserByEmail(tx, parsed.email)) throw emailTaken(parsed.email)
          const actor = userActor({userId: current.id, sessionId: caller.sessionId, orgId: null, email: current.email}, origin)
          return toUser(await applyEmailChange(tx, actor, current, parsed.email))
        }),
      )
    },
  }
}
