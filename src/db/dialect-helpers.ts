import {PostgresAdapter, sql, type Kysely} from 'kysely'
import type {DialectName} from './database-url.js'

/** Which dialect a Kysely instance (or transaction) speaks. For the named helpers below only. */
export function dialectOf(db: Kysely<any>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite'
}

/** Postgres advisory lock keys, one per kind of serialized append. */
const TRANSACTION_LOCK_KEYS = {auditChain: 7_301_001, revocationLog: 7_301_002, signingKeys: 7_301_003} as const

/**
 * Serializes a kind of write across processes until the transaction ends. Postgres takes a
 * transaction-scoped advisory lock; SQLite needs nothing, since a write transaction there is
 * already exclusive (`begin immediate`).
 */
export async function lockForTransaction(trx: Kysely<any>, lock: keyof typeof TRANSACTION_LOCK_KEYS): Promise<void> {
  if (dialectOf(trx) === 'postgres') await sql`select pg_advisory_xact_lock(${TRANSACTION_LOCK_KEYS[lock]})`.execute(trx)
}

/** Postgres advisory lock classes for locks keyed by a subject (the two-int4 key space: class, hashtext(subject)). */
const SUBJECT_LOCK_CLASSES = {passwordForgotIp: 7_301_101} as const

/**
 * Serializes one kind of write per subject (e.g. per client IP) across processes until the
 * transaction ends: a Postgres advisory lock on (class, hash of the subject), which never meets
 * the single-key locks above. SQLite needs nothing: its write transactions are exclusive.
 */
export async function lockSubjectForTransaction(trx: Kysely<any>, lock: keyof typeof SUBJECT_LOCK_CLASSES, subject: string): Promise<void> {
  if (dialectOf(trx) === 'postgres') await sql`select pg_advisory_xact_lock(${SUBJECT_LOCK_CLASSES[lock]}::int4, hashtext(${subject}))`.execute(trx)
}

/** Serializes appends to the audit hash chain until the transaction ends. */
export const lockAuditChain = (trx: Kysely<any>) => lockForTransaction(trx, 'auditChain')

/** Serializes appends to the revocation log until the transaction ends. */
export const lockRevocationLog = (trx: Kysely<any>) => lockForTransaction(trx, 'revocationLog')

/**
 * Locks a user's row until the transaction ends, so concurrent logins count the user's
 * sessions one at a time. SQLite write transactions are already exclusive.
 */
export async function lockUser(trx: Kysely<any>, userId: string): Promise<void> {
  if (dialectOf(trx) === 'postgres') await sql`select id from user_account where id = ${userId} for update`.execute(trx)
}

/**
 * Locks an organization's row until the transaction ends, so two concurrent changes to its
 * owners cannot both see "another owner remains". SQLite write transactions are already
 * exclusive.
 */
export async function lockOrganization(trx: Kysely<any>, orgId: string): Promise<void> {
  if (dialectOf(trx) === 'postgres') await sql`select id from organization where id = ${orgId} for update`.execute(trx)
}

/**
 * Share-locks an organization's row and a user's membership in it until the transaction ends
 * (Postgres; SQLite write transactions are exclusive), in the order org → membership that every
 * writer takes too. A deletion, removal or demotion committing meanwhile orders strictly before
 * or after the caller's read: it waits for the caller, or the caller reads its result.
 */
export async function shareLockMembership(trx: Kysely<any>, orgId: string, userId: string): Promise<void> {
  if (dialectOf(trx) !== 'postgres') return
  await sql`select id from organization where id = ${orgId} for share`.execute(trx)
  await sql`select id from membership where org_id = ${orgId} and user_id = ${userId} for share`.execute(trx)
}

/** Whether an error is a unique-constraint violation, on either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as {code?: unknown} | null)?.code
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}
