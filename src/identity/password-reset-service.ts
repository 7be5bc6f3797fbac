import {z} from 'zod'
import {userActor, type Actor, type RequestOrigin} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import {lockSubjectForTransaction, lockUser} from '../db/dialect-helpers.js'
import {runAndDiscard} from '../db/discarded-work.js'
import {inTransaction} from '../db/transaction.js'
import type {MailOutbox} from '../mail/mail-outbox.js'
import {countRecentAttempts, hashIdentifier, recordAttempt, type AttemptOutcome} from '../security/attempt-log.js'
import type {PasswordHasher} from '../security/password-hasher.js'
import {assertNewPassword} from '../security/password-policy.js'
import {generateOpaqueToken} from '../security/secure-token.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {passwordResetDoneMail, passwordResetMail} from './account-mails.js'
import {clearLockouts} from './account-lockout-repo.js'
import {createLinkTokenGuard, linkTokenSchema} from './link-token-guard.js'
import {loginIdentifierHash} from './login-guard.js'
import {claimOneTimeToken, findLiveOneTimeToken, insertOneTimeToken, voidOneTimeTokens} from './one-time-token-repo.js'
import type {RevocationSignal} from './revocation-signal.js'
import {revokeEverythingOfUser} from './session-revocation.js'
import {findUserByEmail, findUserById, setPasswordHash} from './user-repo.js'
import {emailSchema, passwordSchema} from './user-schemas.js'

export const forgotPasswordSchema = z.object({email: emailSchema})
export type ForgotPasswordInput = z.input<typeof forgotPasswordSchema>

export const resetPasswordSchema = z.object({token: linkTokenSchema, password: passwordSchema})
export type ResetPasswordInput = z.input<typeof resetPasswordSchema>

/**
 * How many reset mails may go out within an hour: per account (whoever asks, from wherever),
 * and per client IP (whichever accounts it names). Requests beyond get the same answer and
 * send nothing, so the endpoint cannot be used to flood a mailbox.
 */
export const PASSWORD_RESET_MAIL_LIMITS = {perAccountPerHour: 3, perIpPerHour: 20} as const

export interface PasswordResetDeps extends ServiceDeps {
  audit: AuditLog
  mail: Pick<MailOutbox, 'enqueue'>
  passwords: Pick<PasswordHasher, 'hashPassword'>
  revocationSignal: RevocationSignal
  /** Links in mails start with it. */
  publicUrl: string
  passwordResetTtlSeconds: number
  failedAttemptsPerMinute: number
  accessTokenTtlSeconds: number
}

export type PasswordResetService = ReturnType<typeof createPasswordResetService>

/** Who asks for a reset: anyone who knows the address, so nobody in particular (as failed logins). */
const anonymousRequester = (origin: RequestOrigin): Actor => ({principal: {kind: 'system', name: 'anonymous'}, origin})

/** Self-service password reset by a link mailed to the account's address. */
export function createPasswordResetService(deps: PasswordResetDeps) {
  const {db, audit} = deps
  const guard = createLinkTokenGuard(deps)
  const ttlSeconds = deps.passwordResetTtlSeconds

  return {
    /**
     * "Forgot password": for an active account with this email, mails a reset link (earlier
     * links stop working, and only then: a request that sends nothing leaves the live link alone)
     * and audits user.password_reset_requested by an anonymous actor with the request's origin
     * (whoever knows the address can ask). Whether the account exists is never told: every
     * well-formed request returns the same (nothing) after the same reads and writes (those of a
     * request that sends nothing are rolled back), and each is recorded in the attempt log (kind
     * password_forgot).
     * Beyond PASSWORD_RESET_MAIL_LIMITS nothing is sent, with the same answer. The limits are
     * counted and the request recorded in one transaction, under the account's row lock and a
     * lock on the client IP, so concurrent requests cannot all pass the count. Raises only
     * validation.failed (a malformed address).
     */
    async requestPasswordReset(origin: RequestOrigin, input: ForgotPasswordInput): Promise<void> {
      const {email} = validateInput(forgotPasswordSchema, input)
      const identifierHash = hashIdentifier(email)
      const hour = 3600
      const found = await findUserByEmail(db, email)
      await inTransaction(db, async (tx) => {
        // The same statements whatever the outcome (on no row when there is no account). The IP
        // lock first, then the user row (the lock order everywhere: nothing takes them reversed).
        await lockSubjectForTransaction(tx, 'passwordForgotIp', origin.ip ?? '')
        await lockUser(tx, found?.id ?? '')
        const now = nowIso(deps)
        const sentToAccount = await countRecentAttempts(tx, deps, {kind: 'password_forgot', identifierHash, outcomes: ['success'], windowSeconds: hour})
        const sentFromIp = await countRecentAttempts(tx, deps, {kind: 'password_forgot', ip: origin.ip ?? null, outcomes: ['success'], windowSeconds: hour})
        const isOverBudget = sentToAccount.count >= PASSWORD_RESET_MAIL_LIMITS.perAccountPerHour || sentFromIp.count >= PASSWORD_RESET_MAIL_LIMITS.perIpPerHour
        const user = await findUserById(tx, found?.id ?? '')
        const outcome: AttemptOutcome = !user || user.disabled_at ? 'failure' : isOverBudget ? 'throttled' : 'success'
        const recipient = user ?? {id: deps.newId(), email}
        // A new link replaces the older ones: they are voided only when one is issued.
        const voidEarlierLinks = () => voidOneTimeTokens(tx, user?.id ?? '', 'password_reset', now)
        const writeResetMail = async (token: string) => {
          await deps.mail.enqueue(tx, passwordResetMail(deps.publicUrl, recipient, token, ttlSeconds))
          await audit.append(tx, anonymousRequester(origin), {
            action: 'user.password_reset_requested',
            target: {type: 'user', id: recipient.id},
            metadata: {email: recipient.email},
          })
        }
        if (outcome === 'success') {
          await voidEarlierLinks()
          const {token} = await insertOneTimeToken(tx, deps, {purpose: 'password_reset', userId: recipient.id, email: recipient.email, ttlSeconds})
          await writeResetMail(token)
        } else {
          // Nothing to send: the voiding, the mail and the audit event are written and rolled
          // back, so this answer takes about as long as one that sends (an unknown address looks
          // like a known one) and the account's live link keeps working.
          await runAndDiscard(tx, 'password_forgot_decoy', async () => {
            await voidEarlierLinks()
            await writeResetMail(generateOpaqueToken(32))
          })
        }
        await recordAttempt(tx, deps, {kind: 'password_forgot', identifierHash, userId: user?.id ?? null, origin, outcome})
      })
    },

    /**
     * Follows a reset link: sets the new password (the policy for new passwords applies:
     * password.too_weak, and the link stays usable), uses the link up, voids the account's
     * other reset links, ends every session and voids every access token issued before, and
     * mails the user that it happened; audited user.password_reset. Following the link proves the
     * mailbox, so a lock on the account's logins ends too (security.account_unlocked, by
     * password_reset): the new password works at once. A wrong, expired or used
     * token is auth.invalid_link_token and counts toward the IP's failure budget
     * (auth.too_many_attempts beyond it). Raises validation.failed too.
     */
    async resetPassword(origin: RequestOrigin, input: ResetPasswordInput): Promise<{userId: string; sessionsRevoked: number}> {
      const parsed = validateInput(resetPasswordSchema, input)
      await guard.assertBudget('reset_token', origin)
      const found = await findLiveOneTimeToken(db, 'password_reset', parsed.token, nowIso(deps))
      const owner = found ? await findUserById(db, found.user_id) : null
      if (!found || !owner || owner.disabled_at) return guard.refuse('reset_token', origin)
      assertNewPassword(parsed.password, {email: owner.email})
      // Hashed before the transaction: argon2 is slow on purpose and must not hold the write lock.
      const passwordHash = await deps.passwords.hashPassword(parsed.password)
      const outcome = await inTransaction(db, async (tx) => {
        await lockUser(tx, owner.id)
        const now = nowIso(deps)
        if (!(await claimOneTimeToken(tx, found.id, now))) return null
        const user = await findUserById(tx, owner.id)
        if (!user || user.disabled_at) return null
        await setPasswordHash(tx, user.id, passwordHash, now)
        await voidOneTimeTokens(tx, user.id, 'password_reset', now)
        // Following the link proved the mailbox: a lock (someone guessing the password) ends.
        const {wasLocked} = await clearLockouts(tx, [loginIdentifierHash(user.email)], user.id, now)
        const revoked = await revokeEverythingOfUser(tx, user.id, 'password_reset', {now, accessTokenTtlSeconds: deps.accessTokenTtlSeconds})
        const actor = userActor({userId: user.id, sessionId: '', orgId: null, email: user.email}, origin)
        await audit.append(tx, actor, {
          action: 'user.password_reset',
          target: {type: 'user', id: user.id},
          metadata: {sessions_revoked: revoked.length},
        })
        if (wasLocked) {
          await audit.append(tx, actor, {action: 'security.account_unlocked', target: {type: 'user', id: user.id}, metadata: {email: user.email, was_locked: true, by: 'password_reset'}})
        }
        await deps.mail.enqueue(tx, passwordResetDoneMail(user))
        return {userId: user.id, sessionsRevoked: revoked.length}
      })
      if (!outcome) return guard.refuse('reset_token', origin)
      await deps.revocationSignal.notify()
      await guard.recordSuccess('reset_token', origin, outcome.userId)
      return outcome
    },
  }
}
