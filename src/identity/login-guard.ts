import type {Kysely} from 'kysely'
import {requirePlatformActor} from '../access/org-access.js'
import type {Actor, RequestOrigin} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database} from '../db/database.js'
import {inTransaction} from '../db/transaction.js'
import type {JobDefinition} from '../jobs/job-service.js'
import {composeMail, linkTo} from '../mail/mail-message.js'
import type {MailOutbox} from '../mail/mail-outbox.js'
import {assertFailureBudget, hashIdentifier, purgeOldAttempts, recordAttempt, tooManyAttempts} from '../security/attempt-log.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {FORGOT_PASSWORD_PATH} from './account-mails.js'
import {addConsecutiveFailure, clearLockouts, findLockout, lockWhenThresholdReached, purgeStaleLockouts, resetConsecutiveFailures} from './account-lockout-repo.js'
import {requireUser, toUser, type User} from './user-repo.js'
import {userRefSchema, type UserRefInput} from './user-schemas.js'

export interface LoginGuardPolicy {
  /** Failed attempts of one kind per identifier and IP within a minute; beyond: 429. */
  failedAttemptsPerMinute: number
  /** Consecutive failures (passwords and 2FA codes together) that lock the identifier. */
  lockoutThreshold: number
  lockoutSeconds: number
  attemptRetentionDays: number
}

/** What a guarded step guesses at: the password, or the second factor after it. */
export type GuardedStep = 'login' | 'mfa'

/** Who is trying, and from where. */
export interface LoginAttempt {
  step: GuardedStep
  /**
   * What the attempt log records and the minute's budget counts per IP: the login identifier
   * (hashed normalized email) for passwords; the user (hashIdentifier of the user id, as core.mfa
   * counts its own code checks) for 2FA codes.
   */
  identifierHash: string
  /** What the lock is keyed by: always the login identifier, known account or not. */
  lockoutHash: string
  user: {id: string; email: string} | null
  origin: RequestOrigin
}

export type LoginGuard = ReturnType<typeof createLoginGuard>

const FAILURE_WINDOW_SECONDS = 60
const DAY_MS = 86_400_000

/**
 * A failed login is audited by nobody in particular: the caller is not authenticated, and the
 * account it names may not exist. The request's origin is recorded with it.
 */
const anonymousActor = (origin: RequestOrigin): Actor => ({principal: {kind: 'system', name: 'anonymous'}, origin})

/** The login identifier as the attempt log and the lockouts key it (the normalized email). */
export const loginIdentifierHash = (email: string): string => hashIdentifier(email)

/**
 * Brute-force defence of the login: a per-minute failure budget per identifier and IP (for
 * passwords, and apart from it for 2FA codes), and a lock of the identifier after
 * `lockoutThreshold` consecutive failures of either. An unknown email is an identifier like any
 * other: counted, budgeted and locked the same, so neither answer nor timing tells whether an
 * account exists. Every attempt is recorded; failures, locks and unlocks are audited, and the
 * owner of a known account is mailed when it is locked or unlocked. Everything lives in the
 * database, so it holds across restarts and across daemons.
 */
export function createLoginGuard(deps: ServiceDeps & {audit: AuditLog; mail: MailOutbox; policy: LoginGuardPolicy; publicUrl: string}) {
  const {db, audit, mail, policy} = deps

  const record = (target: Kysely<Database>, attempt: LoginAttempt, outcome: 'success' | 'failure' | 'throttled' | 'locked') =>
    recordAttempt(target, deps, {kind: attempt.step, identifierHash: attempt.identifierHash, userId: attempt.user?.id ?? null, origin: attempt.origin, outcome})

  /** Raises 429 auth.too_many_attempts while the identifier is locked (Retry-After: until it ends). */
  async function assertNotLocked(target: Kysely<Database>, identifierHash: string): Promise<void> {
    const lockout = await findLockout(target, identifierHash)
    const now = deps.clock.now().getTime()
    const lockedUntil = lockout?.lockedUntil ? Date.parse(lockout.lockedUntil) : 0
    if (lockedUntil > now) throw tooManyAttempts(Math.max(1, Math.ceil((lockedUntil - now) / 1000)))
  }

  return {
    /**
     * Checked before the password or code is: a locked identifier, or one whose failures on
     * this IP used up the minute's budget, is refused with 429 auth.too_many_attempts (recorded
     * as locked / throttled), whatever the password — so a guesser over the limit learns nothing.
     */
    async assertMayAttempt(attempt: LoginAttempt): Promise<void> {
      try {
        await assertNotLocked(db, attempt.lockoutHash)
      } catch (error) {
        await record(db, attempt, 'locked')
        throw error
      }
      try {
        await assertFailureBudget(db, deps, {kind: attempt.step, ip: attempt.origin.ip ?? null, identifierHash: attempt.identifierHash, limit: policy.failedAttemptsPerMinute, windowSeconds: FAILURE_WINDOW_SECONDS})
      } catch (error) {
        await record(db, attempt, 'throttled')
        throw error
      }
    },

    /**
     * Under the user row lock in the transaction that opens the session: a lock that committed
     * since assertMayAttempt refuses the login too (429 auth.too_many_attempts).
     */
    assertNotLocked,

    /**
     * A wrong password (or unknown email) or a wrong 2FA code: recorded, audited
     * (security.login_failed), counted toward the lock. The failure that reaches the threshold
     * locks the identifier, audits security.account_locked and mails the owner of a known
     * account — exactly one of racing failures does. Its own transaction.
     */
    async recordFailure(attempt: LoginAttempt): Promise<{locked: boolean}> {
      return inTransaction(db, async (tx) => {
        const now = nowIso(deps)
        await record(tx, attempt, 'failure')
        const consecutiveFailures = await addConsecutiveFailure(tx, attempt.lockoutHash, attempt.user?.id ?? null, now)
        const target = attempt.user ? {type: 'user', id: attempt.user.id} : null
        const actor = anonymousActor(attempt.origin)
        await audit.append(tx, actor, {
          action: 'security.login_failed',
          target,
          metadata: {identifier_hash: attempt.lockoutHash, step: attempt.step === 'mfa' ? 'second_factor' : 'password', consecutive_failures: consecutiveFailures},
        })
        const lockedUntil = new Date(Date.parse(now) + policy.lockoutSeconds * 1000).toISOString()
        const locked = consecutiveFailures >= policy.lockoutThreshold && (await lockWhenThresholdReached(tx, attempt.lockoutHash, {threshold: policy.lockoutThreshold, lockedUntil, now}))
        if (!locked) return {locked: false}
        await audit.append(tx, actor, {action: 'security.account_locked', target, metadata: {identifier_hash: attempt.lockoutHash, locked_until: lockedUntil, consecutive_failures: consecutiveFailures}})
        if (attempt.user) await mail.enqueue(tx, lockedMail(deps.publicUrl, attempt.user, consecutiveFailures, lockedUntil))
        return {locked: true}
      })
    },

    /**
     * The password was right but the login is refused for another reason: a lock that committed
     * meanwhile ('locked'), or the account or organization policy (disabled, email not verified,
     * 2FA required: 'failure', spent from the minute's budget but not counted toward the lock —
     * it is not a guess).
     */
    async recordRefusal(attempt: LoginAttempt, outcome: 'failure' | 'locked'): Promise<void> {
      await record(db, attempt, outcome)
    },

    /** A step passed: recorded inside `tx`; a completed login also starts the failure count again. */
    async recordSuccess(tx: Kysely<Database>, attempt: LoginAttempt, options: {isLoginComplete: boolean}): Promise<void> {
      await record(tx, attempt, 'success')
      if (options.isLoginComplete) await resetConsecutiveFailures(tx, attempt.lockoutHash, nowIso(deps))
    },

    /**
     * Clears a user's lock and failure count (operators and platform principals): audited
     * security.account_unlocked; the user is mailed when the account was locked. Raises
     * platform.required, user.not_found.
     */
    async unlockUser(actor: Actor, input: UserRefInput): Promise<{user: User; wasLocked: boolean}> {
      const {user: ref} = validateInput(userRefSchema, input)
      return inTransaction(db, async (tx) => {
        await requirePlatformActor(tx, actor, 'unlock users')
        const row = await requireUser(tx, ref, {allowDisabled: true})
        const now = nowIso(deps)
        const {wasLocked} = await clearLockouts(tx, [loginIdentifierHash(row.email)], row.id, now)
        await audit.append(tx, actor, {action: 'security.account_unlocked', target: {type: 'user', id: row.id}, metadata: {email: row.email, was_locked: wasLocked}})
        if (wasLocked) await mail.enqueue(tx, unlockedMail(row))
        return {user: toUser(row), wasLocked}
      })
    },

    /** The cleanup job: old attempts, used-up one-time tokens, and lockout rows nobody needs. */
    purgeJob: {
      name: 'purge-auth-attempts',
      description: 'Delete login attempts older than attempt_retention_days, expired one-time tokens, and lockouts unlocked and untouched for a day',
      async run() {
        const now = deps.clock.now()
        const attempts = await purgeOldAttempts(db, deps, policy.attemptRetentionDays)
        const tokens = await db.deleteFrom('one_time_token').where('expires_at', '<=', now.toISOString()).executeTakeFirst()
        const lockouts = await purgeStaleLockouts(db, now.toISOString(), new Date(now.getTime() - DAY_MS).toISOString())
        return {attempts_deleted: attempts, one_time_tokens_deleted: Number(tokens.numDeletedRows), lockouts_deleted: lockouts}
      },
    } satisfies JobDefinition,
  }
}

function lockedMail(publicUrl: string, user: {id: string; email: string}, failures: number, lockedUntil: string) {
  return composeMail({
    kind: 'account_locked',
    to: user.email,
    userId: user.id,
    subject: 'Your account was locked after failed sign-in attempts',
    paragraphs: [
      `After ${failures} failed sign-in attempts in a row, signing in to ${user.email} is blocked until ${lockedUntil} (UTC).`,
      'If these attempts were not yours, someone may be guessing your password: reset it with the link below, which also lifts the lock, or sign in when the lock ends and change it. An administrator can lift the lock earlier.',
    ],
    action: {label: 'Reset your password', url: linkTo(publicUrl, FORGOT_PASSWORD_PATH)},
  })
}

function unlockedMail(user: {id: string; email: string}) {
  return composeMail({
    kind: 'account_unlocked',
    to: user.email,
    userId: user.id,
    subject: 'Your account was unlocked',
    paragraphs: [`An administrator lifted the lock on ${user.email}: you can sign in again.`, 'If you did not ask for this, contact your administrator.'],
  })
}
