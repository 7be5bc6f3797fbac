import type {Kysely} from 'kysely'
import {requirePlatformActor} from '../access/org-access.js'
import type {Actor, RequestOrigin} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database} from '../db/database.js'
import {inTransaction} from '../db/transaction.js'
import type {JobDefinition} from '../jobs/job-service.js'
import {composeMail, linkTo} from '../mail/mail-message.js'
import type {MailOutbox} from '../mail/mail-outbox.js'
import {runAndDiscard} from '../db/discarded-work.js'
import {isDomainError, type DomainError} from '../errors/domain-error.js'
import {assertFailureBudget, AttemptsInFlight, countAttemptsInFlight, deleteAttempt, hashIdentifier, purgeOldAttempts, recordAttempt, setAttemptOutcome, tooManyAttempts} from '../security/attempt-log.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {FORGOT_PASSWORD_PATH} from './account-mails.js'
import {addConsecutiveFailure, clearLockouts, lockLockoutRow, lockWhenThresholdReached, purgeStaleLockouts, resetConsecutiveFailures, undoConsecutiveFailure} from './account-lockout-repo.js'
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

/** An attempt recorded (as a failure) and counted before its check; settled after it. */
export interface AttemptReservation {
  attempt: LoginAttempt
  attemptId: string
}

/** What a guarded check returns for a wrong password or code. */
export const WRONG_GUESS = Symbol('wrong guess')

/** A lock committed between the reservation and the transaction acting on a right secret. */
class LockedMeanwhile extends Error {
  constructor() {
    super('the identifier was locked meanwhile')
  }
}

// Refusals that come only after the secret was right: not guesses, so not counted toward the
// lock, but they stay recorded as failures (spent from the minute's budget).
const REFUSALS_AFTER_SECRET = new Set(['user.disabled', 'auth.email_not_verified', 'auth.mfa_enrollment_required'])

// The lock mail of an unknown identifier is written and rolled back (no one to send it to).
const UNKNOWN_RECIPIENT = {id: '', email: 'unknown-account@invalid'}

const FAILURE_WINDOW_SECONDS = 60
/** How long an attempt waits for concurrent ones still being checked before it is refused. */
const IN_FLIGHT_WAIT_MS = 10_000
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

  const record = (target: Kysely<Database>, attempt: LoginAttempt, outcome: 'success' | 'failure' | 'pending' | 'throttled' | 'locked') =>
    recordAttempt(target, deps, {kind: attempt.step, identifierHash: attempt.identifierHash, userId: attempt.user?.id ?? null, origin: attempt.origin, outcome})

  const lockedUntilOf = (now: string) => new Date(Date.parse(now) + policy.lockoutSeconds * 1000).toISOString()
  const secondsUntil = (instant: number, now: number) => Math.max(1, Math.ceil((instant - now) / 1000))

  /**
   * In one short transaction holding the identifier's account_lockout row: refuses a locked
   * identifier, one whose consecutive failures (in-flight reservations included) reached the
   * threshold, and one whose failures of this kind on this IP (in-flight included) used up the
   * minute's budget — recording the refusal; otherwise records the attempt as a failure and
   * counts it, before anything is checked. So a burst of concurrent guesses checks at most the
   * budget, and never more than the threshold before the lock.
   */
  async function reserveAttempt(attempt: LoginAttempt): Promise<AttemptReservation> {
    // Concurrent attempts whose secrets are still being checked may be right (a script logging
    // in several times at once): while only they fill the budget, wait for them to settle rather
    // than refuse — a burst of wrong guesses still gets no more checks than the budget.
    const giveUpAt = Date.now() + IN_FLIGHT_WAIT_MS
    for (;;) {
      try {
        return await reserveAttemptOnce(attempt)
      } catch (error) {
        if (!(error instanceof AttemptsInFlight)) throw error
        if (Date.now() >= giveUpAt) {
          await record(db, attempt, 'throttled')
          throw tooManyAttempts(1)
        }
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30))
      }
    }
  }

  async function reserveAttemptOnce(attempt: LoginAttempt): Promise<AttemptReservation> {
    const decision = await inTransaction(db, async (tx) => {
      const now = nowIso(deps)
      const nowMs = Date.parse(now)
      const lockout = await lockLockoutRow(tx, attempt.lockoutHash, attempt.user?.id ?? null, now)
      const lockedUntil = lockout.lockedUntil ? Date.parse(lockout.lockedUntil) : 0
      if (lockedUntil > nowMs) {
        await record(tx, attempt, 'locked')
        return {refusal: tooManyAttempts(secondsUntil(lockedUntil, nowMs))}
      }
      // The threshold reached: by confirmed failures, the lock is about to be taken; only with
      // attempts still being checked (which may be right), wait for them to settle.
      if (lockout.consecutiveFailures >= policy.lockoutThreshold) {
        const inFlight = await countAttemptsInFlight(tx, deps, {lockoutHash: attempt.lockoutHash, userId: attempt.user?.id ?? null})
        if (lockout.consecutiveFailures - inFlight < policy.lockoutThreshold) return {refusal: new AttemptsInFlight()}
        await record(tx, attempt, 'locked')
        return {refusal: tooManyAttempts(policy.lockoutSeconds)}
      }
      try {
        await assertFailureBudget(tx, deps, {kind: attempt.step, ip: attempt.origin.ip ?? null, identifierHash: attempt.identifierHash, limit: policy.failedAttemptsPerMinute, windowSeconds: FAILURE_WINDOW_SECONDS})
      } catch (error) {
        if (error instanceof AttemptsInFlight) return {refusal: error}
        await record(tx, attempt, 'throttled')
        return {refusal: error}
      }
      const attemptId = await record(tx, attempt, 'pending')
      await addConsecutiveFailure(tx, attempt.lockoutHash, attempt.user?.id ?? null, now)
      return {reservation: {attempt, attemptId}}
    })
    if ('refusal' in decision) throw decision.refusal
    return decision.reservation
  }

  /**
   * A reserved attempt was a wrong guess: audited (security.login_failed); when the consecutive
   * failures reached the threshold and the identifier is not locked yet, it is locked
   * (security.account_locked, the owner of a known account mailed) — exactly once of racing
   * failures. For an unknown identifier the mail is written and rolled back, so the failure that
   * locks costs about the same whether or not the account exists. Its own transaction.
   */
  async function confirmFailure(reservation: AttemptReservation): Promise<{locked: boolean}> {
    const {attempt} = reservation
    return inTransaction(db, async (tx) => {
      const now = nowIso(deps)
      const {consecutiveFailures} = await lockLockoutRow(tx, attempt.lockoutHash, attempt.user?.id ?? null, now)
      await setAttemptOutcome(tx, reservation.attemptId, 'failure')
      const target = attempt.user ? {type: 'user', id: attempt.user.id} : null
      const actor = anonymousActor(attempt.origin)
      await audit.append(tx, actor, {
        action: 'security.login_failed',
        target,
        metadata: {identifier_hash: attempt.lockoutHash, step: attempt.step === 'mfa' ? 'second_factor' : 'password', consecutive_failures: consecutiveFailures},
      })
      const lockedUntil = lockedUntilOf(now)
      const locked = consecutiveFailures >= policy.lockoutThreshold && (await lockWhenThresholdReached(tx, attempt.lockoutHash, {threshold: policy.lockoutThreshold, lockedUntil, now}))
      if (!locked) return {locked: false}
      await audit.append(tx, actor, {action: 'security.account_locked', target, metadata: {identifier_hash: attempt.lockoutHash, locked_until: lockedUntil, consecutive_failures: consecutiveFailures}})
      const message = lockedMail(deps.publicUrl, attempt.user ?? UNKNOWN_RECIPIENT, consecutiveFailures, lockedUntil)
      if (attempt.user) await mail.enqueue(tx, message)
      else await runAndDiscard(tx, 'lock_mail_decoy', async () => void (await mail.enqueue(tx, {...message, userId: null})))
      return {locked: true}
    })
  }

  /**
   * A reserved attempt that was no wrong guess: `outcome` recorded ('failure' still spends the
   * minute's budget; null withdraws the attempt — nothing was checked), its count taken back.
   */
  async function settleWithoutGuess(reservation: AttemptReservation, outcome: 'failure' | 'locked' | null): Promise<void> {
    await inTransaction(db, async (tx) => {
      await lockLockoutRow(tx, reservation.attempt.lockoutHash, null, nowIso(deps))
      if (outcome === null) await deleteAttempt(tx, reservation.attemptId)
      else await setAttemptOutcome(tx, reservation.attemptId, outcome)
      await undoConsecutiveFailure(tx, reservation.attempt.lockoutHash, nowIso(deps))
    })
  }

  return {
    reserveAttempt,
    confirmFailure,

    /**
     * Runs one guarded check: reserves the attempt (429 auth.too_many_attempts when locked,
     * about to lock, or over the minute's budget — whatever was typed), then `work`, which
     * checks the secret. `work` returns WRONG_GUESS for a wrong one (the failure is confirmed,
     * `wrong()` raised); a right one settles the reservation inside its own transaction
     * (confirmSuccess). A lock committed meanwhile (assertNotLockedMeanwhile) is answered
     * exactly like a wrong guess (`wrong()`), never a late 429. A refusal after a right secret
     * (user.disabled, auth.email_not_verified, auth.mfa_enrollment_required) keeps spending the
     * minute's budget but not the lock; any other error withdraws the attempt.
     */
    async guarded<Result>(attempt: LoginAttempt, work: (reservation: AttemptReservation) => Promise<Result | typeof WRONG_GUESS>, wrong: () => DomainError): Promise<Result> {
      const reservation = await reserveAttempt(attempt)
      let result: Result | typeof WRONG_GUESS
      try {
        result = await work(reservation)
      } catch (error) {
        if (error instanceof LockedMeanwhile) {
          await settleWithoutGuess(reservation, 'locked')
          throw wrong()
        }
        await settleWithoutGuess(reservation, isDomainError(error) && REFUSALS_AFTER_SECRET.has(error.code) ? 'failure' : null)
        throw error
      }
      if (result !== WRONG_GUESS) return result
      await confirmFailure(reservation)
      throw wrong()
    },

    /**
     * Inside the transaction that acts on a right secret, after the user row lock: holds the
     * identifier's row and raises LockedMeanwhile (answered like a wrong guess by `guarded`)
     * when a lock committed since the reservation.
     */
    async assertNotLockedMeanwhile(tx: Kysely<Database>, lockoutHash: string): Promise<void> {
      const lockout = await lockLockoutRow(tx, lockoutHash, null, nowIso(deps))
      if (lockout.lockedUntil && Date.parse(lockout.lockedUntil) > deps.clock.now().getTime()) throw new LockedMeanwhile()
    },

    /**
     * A reserved attempt was right; inside `tx` (the one that acts on it): recorded as a
     * success. A completed login starts the failure count again; a step that is not the whole
     * proof (a 2FA user's password, a password typed to confirm a change) takes back only its
     * own reservation, so it never resets the count.
     */
    async confirmSuccess(tx: Kysely<Database>, reservation: AttemptReservation, options: {isLoginComplete: boolean}): Promise<void> {
      const now = nowIso(deps)
      await setAttemptOutcome(tx, reservation.attemptId, 'success')
      if (options.isLoginComplete) await resetConsecutiveFailures(tx, reservation.attempt.lockoutHash, now)
      else await undoConsecutiveFailure(tx, reservation.attempt.lockoutHash, now)
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
