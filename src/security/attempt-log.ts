import type {Kysely} from 'kysely'
import type {RequestOrigin} from '../access/principal.js'
import type {Database} from '../db/database.js'
import {DomainError} from '../errors/domain-error.js'
import type {ServiceDeps} from '../shared/service-deps.js'
import {hashToken} from './secure-token.js'

/**
 * The record of every attempt that can be guessed at (logins, 2FA codes, reset and
 * verification tokens), and the per-minute failure budget built on it. The database holds it,
 * so a budget holds across restarts and across every daemon on one database.
 */
export type AttemptKind = 'login' | 'mfa' | 'reset_token' | 'verify_token' | 'verify_resend' | 'password_forgot' | 'invite_token'
/** 'pending': reserved, its secret still being checked (counted like a failure until settled). */
export type AttemptOutcome = 'success' | 'failure' | 'pending' | 'throttled' | 'locked'

export interface AttemptRecord {
  kind: AttemptKind
  /** hashIdentifier of what was tried against (an email, a user id), or null (per-IP kinds). */
  identifierHash: string | null
  userId: string | null
  origin: RequestOrigin
  outcome: AttemptOutcome
}

/** How an identifier is kept: SHA-256 of its normalized form, never the value itself. */
export function hashIdentifier(value: string): string {
  return hashToken(value.trim().toLowerCase())
}

/** Inserts the attempt and returns its id (a reservation settles it later: setAttemptOutcome). */
export async function recordAttempt(db: Kysely<Database>, deps: Pick<ServiceDeps, 'clock' | 'newId'>, record: AttemptRecord): Promise<string> {
  const id = deps.newId()
  await db
    .insertInto('auth_attempt')
    .values({
      id,
      kind: record.kind,
      identifier_hash: record.identifierHash,
      user_id: record.userId,
      ip: record.origin.ip ?? null,
      user_agent: record.origin.userAgent?.slice(0, 512) ?? null,
      outcome: record.outcome,
      created_at: deps.clock.now().toISOString(),
    })
    .execute()
  return id
}

/** Settles an attempt recorded ahead of its check (a reservation): its outcome as it turned out. */
export async function setAttemptOutcome(db: Kysely<Database>, attemptId: string, outcome: AttemptOutcome): Promise<void> {
  await db.updateTable('auth_attempt').set({outcome}).where('id', '=', attemptId).execute()
}

/** Withdraws an attempt recorded ahead of a check that never happened. */
export async function deleteAttempt(db: Kysely<Database>, attemptId: string): Promise<void> {
  await db.deleteFrom('auth_attempt').where('id', '=', attemptId).execute()
}

export interface FailureBudget {
  kind: AttemptKind
  /** Counted per IP and, when given, per identifier on that IP. */
  ip: string | null
  identifierHash?: string | null
  /** Failures allowed within the window. */
  limit: number
  windowSeconds: number
}

/**
 * Thrown instead of the refusal when the budget is full only because of reservations still
 * being checked ('pending'): they may turn out right, so the caller may wait and ask again.
 */
/**
 * A reservation older than this is no longer in flight: its process died or hung while
 * checking (argon2 takes well under a second). It still counts as a failure, but nothing waits
 * for it.
 */
export const IN_FLIGHT_SECONDS = 30

export class AttemptsInFlight extends Error {
  constructor() {
    super('the failure budget is held by attempts still being checked')
  }
}

/**
 * Raises `auth.too_many_attempts` (details.retry_after_seconds: when the oldest counted failure
 * leaves the window) when the budget's failures within its window have reached its limit.
 * Reservations still being checked count as failures; when only they fill the budget, raises
 * AttemptsInFlight instead.
 */
export async function assertFailureBudget(db: Kysely<Database>, deps: Pick<ServiceDeps, 'clock'>, budget: FailureBudget): Promise<void> {
  const now = deps.clock.now().getTime()
  const since = new Date(now - budget.windowSeconds * 1000).toISOString()
  const inFlightSince = new Date(now - IN_FLIGHT_SECONDS * 1000).toISOString()
  let query = db
    .selectFrom('auth_attempt')
    .select((eb) => [
      eb.fn.countAll<number>().as('failures'),
      eb.fn.sum<number>(eb.case().when(eb.and([eb('outcome', '=', 'pending'), eb('created_at', '>', inFlightSince)])).then(1).else(0).end()).as('pending'),
      eb.fn.min('created_at').as('oldest'),
    ])
    .where('kind', '=', budget.kind)
    .where('outcome', 'in', ['failure', 'pending'])
    .where('created_at', '>', since)
  query = budget.ip === null ? query.where('ip', 'is', null) : query.where('ip', '=', budget.ip)
  if (budget.identifierHash !== undefined) query = budget.identifierHash === null ? query.where('identifier_hash', 'is', null) : query.where('identifier_hash', '=', budget.identifierHash)
  const row = await query.executeTakeFirstOrThrow()
  if (Number(row.failures) < budget.limit) return
  if (Number(row.failures) - Number(row.pending ?? 0) < budget.limit) throw new AttemptsInFlight()
  const oldest = row.oldest ? Date.parse(String(row.oldest)) : now
  throw tooManyAttempts(Math.max(1, Math.ceil((oldest + budget.windowSeconds * 1000 - now) / 1000)))
}

/**
 * How many reservations of the lockout identifier are in flight (pending, younger than
 * IN_FLIGHT_SECONDS): password attempts are recorded under the identifier itself, 2FA codes
 * under their user.
 */
export async function countAttemptsInFlight(db: Kysely<Database>, deps: Pick<ServiceDeps, 'clock'>, of: {lockoutHash: string; userId: string | null}): Promise<number> {
  const inFlightSince = new Date(deps.clock.now().getTime() - IN_FLIGHT_SECONDS * 1000).toISOString()
  const row = await db
    .selectFrom('auth_attempt')
    .select((eb) => eb.fn.countAll<number>().as('pending'))
    .where('outcome', '=', 'pending')
    .where('created_at', '>', inFlightSince)
    .where((eb) => (of.userId === null ? eb('identifier_hash', '=', of.lockoutHash) : eb.or([eb('identifier_hash', '=', of.lockoutHash), eb.and([eb('kind', '=', 'mfa'), eb('user_id', '=', of.userId)])])))
    .executeTakeFirstOrThrow()
  return Number(row.pending)
}

/** The one refusal of the failure budgets and of a locked account (429 with Retry-After). */
export function tooManyAttempts(retryAfterSeconds: number): DomainError {
  return new DomainError('auth.too_many_attempts', 'Too many failed attempts; try again later', {retry_after_seconds: retryAfterSeconds})
}

/** Deletes attempts older than `retentionDays`; returns how many. */
export async function purgeOldAttempts(db: Kysely<Database>, deps: Pick<ServiceDeps, 'clock'>, retentionDays: number): Promise<number> {
  const before = new Date(deps.clock.now().getTime() - retentionDays * 86_400_000).toISOString()
  const result = await db.deleteFrom('auth_attempt').where('created_at', '<', before).executeTakeFirst()
  return Number(result.numDeletedRows)
}

export interface AttemptWindow {
  kind: AttemptKind
  /** Only attempts from this IP, when given. */
  ip?: string | null
  /** Only attempts against this identifier, when given. */
  identifierHash?: string | null
  outcomes: AttemptOutcome[]
  windowSeconds: number
}

/**
 * How many attempts of a kind with these outcomes fall within the window, and how many seconds
 * until the oldest of them leaves it. For budgets that count something other than failures
 * (mails sent: resent verifications, reset requests).
 */
export async function countRecentAttempts(db: Kysely<Database>, deps: Pick<ServiceDeps, 'clock'>, window: AttemptWindow): Promise<{count: number; retryAfterSeconds: number}> {
  const now = deps.clock.now().getTime()
  let query = db
    .selectFrom('auth_attempt')
    .select((eb) => [eb.fn.countAll<number>().as('attempts'), eb.fn.min('created_at').as('oldest')])
    .where('kind', '=', window.kind)
    .where('outcome', 'in', window.outcomes)
    .where('created_at', '>', new Date(now - window.windowSeconds * 1000).toISOString())
  if (window.ip !== undefined) query = window.ip === null ? query.where('ip', 'is', null) : query.where('ip', '=', window.ip)
  if (window.identifierHash !== undefined) query = window.identifierHash === null ? query.where('identifier_hash', 'is', null) : query.where('identifier_hash', '=', window.identifierHash)
  const row = await query.executeTakeFirstOrThrow()
  const oldest = row.oldest ? Date.parse(String(row.oldest)) : now
  return {count: Number(row.attempts), retryAfterSeconds: Math.max(1, Math.ceil((oldest + window.windowSeconds * 1000 - now) / 1000))}
}
