import type {Kysely} from 'kysely'
import {z} from 'zod'
import {userActor, type RequestOrigin} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database} from '../db/database.js'
import {lockUser} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import type {MailOutbox} from '../mail/mail-outbox.js'
import {countRecentAttempts, hashIdentifier, recordAttempt, tooManyAttempts} from '../security/attempt-log.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {verifyEmailMail} from './account-mails.js'
import {createLinkTokenGuard, linkTokenSchema} from './link-token-guard.js'
import {claimOneTimeToken, deleteOneTimeTokensOfUser, findLiveOneTimeToken, insertOneTimeToken, voidOneTimeTokens} from './one-time-token-repo.js'
import {findUserById, setEmailVerifiedAt} from './user-repo.js'

export const verifyEmailSchema = z.object({token: linkTokenSchema})
export type VerifyEmailInput = z.input<typeof verifyEmailSchema>

/** How often a signed-in user may ask for the verification mail again. */
export const VERIFICATION_RESEND_LIMITS = [
  {limit: 1, windowSeconds: 60},
  {limit: 5, windowSeconds: 3600},
] as const

export interface EmailVerificationDeps extends ServiceDeps {
  audit: AuditLog
  mail: Pick<MailOutbox, 'enqueue'>
  /** Links in mails start with it. */
  publicUrl: string
  emailVerificationTtlSeconds: number
  failedAttemptsPerMinute: number
}

export type EmailVerificationService = ReturnType<typeof createEmailVerificationService>

/**
 * Email verification: a link mailed at registration, after an email change and on request;
 * following it marks the address verified (user_account.email_verified_at), which `me` and
 * access tokens report as email_verified and which require_verified_email makes a condition
 * of login.
 */
export function createEmailVerificationService(deps: EmailVerificationDeps) {
  const {db, audit} = deps
  const guard = createLinkTokenGuard(deps)
  const ttlSeconds = deps.emailVerificationTtlSeconds

  /**
   * Inside the caller's transaction: voids the user's earlier verification links and mails a
   * new one to `user.email` (through the outbox, so it is sent only if the change commits).
   */
  async function sendVerification(tx: Kysely<Database>, user: {id: string; email: string}): Promise<void> {
    await voidOneTimeTokens(tx, user.id, 'verify_email', nowIso(deps))
    const {token} = await insertOneTimeToken(tx, deps, {purpose: 'verify_email', userId: user.id, email: user.email, ttlSeconds})
    await deps.mail.enqueue(tx, verifyEmailMail(deps.publicUrl, user, token, ttlSeconds))
  }

  return {
    sendVerification,

    /**
     * Follows a verification link: the token is used up, and the user's email is marked
     * verified when it is still the address the link was sent to; audited user.email_verified.
     * A wrong, expired, used or voided token (or one for an address the account no longer
     * has) is auth.invalid_link_token and counts toward the IP's failure budget
     * (auth.too_many_attempts beyond it). Raises validation.failed too.
     */
    async verifyEmail(origin: RequestOrigin, input: VerifyEmailInput): Promise<{userId: string; email: string}> {
      const {token} = validateInput(verifyEmailSchema, input)
      await guard.assertBudget('verify_token', origin)
      const outcome = await inTransaction(db, async (tx) => {
        const now = nowIso(deps)
        const found = await findLiveOneTimeToken(tx, 'verify_email', token, now)
        if (!found || !found.email) return null
        await lockUser(tx, found.user_id)
        if (!(await claimOneTimeToken(tx, found.id, now))) return null
        const user = await findUserById(tx, found.user_id)
        // The account changed its address since (or was disabled): this link verifies nothing.
        if (!user || user.disabled_at || user.email !== found.email) return null
        if (!user.email_verified_at) {
          await setEmailVerifiedAt(tx, user.id, user.email, now)
          await audit.append(tx, userActor({userId: user.id, sessionId: '', orgId: null, email: user.email}, origin), {
            action: 'user.email_verified',
            target: {type: 'user', id: user.id},
            metadata: {email: user.email},
          })
        }
        return {userId: user.id, email: user.email}
      })
      if (!outcome) return guard.refuse('verify_token', origin)
      await guard.recordSuccess('verify_token', origin, outcome.userId)
      return outcome
    },

    /**
     * Mails the signed-in user a new verification link (earlier ones stop working); audited
     * user.email_verification_sent. At most one a minute and five an hour per user:
     * auth.too_many_attempts (Retry-After) beyond. The limits are counted and the mail recorded
     * in one transaction under the user's row lock, so concurrent requests cannot all pass the
     * count. Raises email.already_verified when there is nothing to verify, auth.invalid_token
     * when the account is gone or disabled.
     */
    async resendVerification(caller: {userId: string; sessionId?: string; orgId?: string | null}, origin: RequestOrigin): Promise<{email: string}> {
      const identifierHash = hashIdentifier(caller.userId)
      const outcome = await inTransaction(db, async (tx) => {
        await lockUser(tx, caller.userId)
        const user = await findUserById(tx, caller.userId)
        if (!user || user.disabled_at) throw new DomainError('auth.invalid_token', 'The account is not active', {reason: 'user_revoked'})
        if (user.email_verified_at) throw new DomainError('email.already_verified', `${user.email} is already verified`)
        for (const window of VERIFICATION_RESEND_LIMITS) {
          const sent = await countRecentAttempts(tx, deps, {kind: 'verify_resend', identifierHash, outcomes: ['success'], windowSeconds: window.windowSeconds})
          if (sent.count >= window.limit) {
            await recordAttempt(tx, deps, {kind: 'verify_resend', identifierHash, userId: user.id, origin, outcome: 'throttled'})
            return {kind: 'throttled' as const, retryAfterSeconds: sent.retryAfterSeconds}
          }
        }
        await sendVerification(tx, user)
        await audit.append(tx, userActor({userId: user.id, sessionId: caller.sessionId ?? '', orgId: caller.orgId ?? null, email: user.email}, origin), {
          action: 'user.email_verification_sent',
          target: {type: 'user', id: user.id},
          metadata: {email: user.email},
        })
        await recordAttempt(tx, deps, {kind: 'verify_resend', identifierHash, userId: user.id, origin, outcome: 'success'})
        return {kind: 'sent' as const, email: user.email}
      })
      // Refused after the commit: the throttled attempt stays recorded.
      if (outcome.kind === 'throttled') throw tooManyAttempts(outcome.retryAfterSeconds)
      return {email: outcome.email}
    },

    /** Purge hook: a deleted user's verification and reset links (they point at the user row). */
    purgeHook: {
      name: 'accountLinks',
      purgeUser: (tx: Kysely<Database>, userId: string) => deleteOneTimeTokensOfUser(tx, userId, ['verify_email', 'password_reset']),
    },
  }
}
