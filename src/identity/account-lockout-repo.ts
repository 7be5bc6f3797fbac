import {sql, type Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {dialectOf} from '../db/dialect-helpers.js'

// The account_lockout table: consecutive failures and the lock, per hashed login identifier
// (the normalized email, known or not). The login guard writes it; a password reset by mailed
// link clears it (clearLockouts), as an operator's unlock does.

export interface LockoutState {
  consecutiveFailures: number
  lockedUntil: string | null
}

export async function findLockout(db: Kysely<Database>, identifierHash: string): Promise<LockoutState | null> {
  const row = await db.selectFrom('account_lockout').select(['consecutive_failures', 'locked_until']).where('identifier_hash', '=', identifierHash).executeTakeFirst()
  return row ? {consecutiveFailures: Number(row.consecutive_failures), lockedUntil: row.locked_until} : null
}

/**
 * Makes sure the identifier has a row and locks it until the transaction ends (SELECT … FOR
 * UPDATE on Postgres; SQLite write transactions are exclusive), then reads it: every guarded
 * attempt on one identifier (on any daemon) checks and reserves one after another.
 */
export async function lockLockoutRow(tx: Kysely<Database>, identifierHash: string, userId: string | null, now: string): Promise<LockoutState> {
  await tx
    .insertInto('account_lockout')
    .values({identifier_hash: identifierHash, user_id: userId, consecutive_failures: 0, locked_until: null, updated_at: now})
    .onConflict((oc) => oc.column('identifier_hash').doNothing())
    .execute()
  if (dialectOf(tx) === 'postgres') await sql`select identifier_hash from account_lockout where identifier_hash = ${identifierHash} for update`.execute(tx)
  const state = await findLockout(tx, identifierHash)
  if (!state) throw new Error('account_lockout row vanished inside its transaction')
  return state
}

/** Takes back one reserved failure (floor 0): the attempt it counted was not a wrong guess. */
export async function undoConsecutiveFailure(tx: Kysely<Database>, identifierHash: string, now: string): Promise<void> {
  await tx
    .updateTable('account_lockout')
    .set((eb) => ({consecutive_failures: eb('consecutive_failures', '-', 1), updated_at: now}))
    .where('identifier_hash', '=', identifierHash)
    .where('consecutive_failures', '>', 0)
    .execute()
}

/**
 * Counts one more consecutive failure and returns the new count. One upsert: on Postgres it
 * takes the row lock until the transaction ends, so concurrent failures (on any daemon) count
 * one after another; SQLite write transactions are exclusive anyway.
 */
export async function addConsecutiveFailure(tx: Kysely<Database>, identifierHash: string, userId: string | null, now: string): Promise<number> {
  await tx
    .insertInto('account_lockout')
    .values({identifier_hash: identifierHash, user_id: userId, consecutive_failures: 1, locked_until: null, updated_at: now})
    .onConflict((oc) =>
      oc.column('identifier_hash').doUpdateSet((eb) => ({
        consecutive_failures: eb('account_lockout.consecutive_failures', '+', 1),
        user_id: eb.fn.coalesce('excluded.user_id', 'account_lockout.user_id'),
        updated_at: now,
      })),
    )
    .execute()
  const row = await tx.selectFrom('account_lockout').select('consecutive_failures').where('identifier_hash', '=', identifierHash).executeTakeFirstOrThrow()
  return Number(row.consecutive_failures)
}

/**
 * Locks the identifier until `lockedUntil` when it has reached `threshold` consecutive failures
 * and is not locked now, and starts its count again. True when this call locked it: of racing
 * failures, exactly one does (its audit event and mail are the only ones).
 */
export async function lockWhenThresholdReached(tx: Kysely<Database>, identifierHash: string, input: {threshold: number; lockedUntil: string; now: string}): Promise<boolean> {
  const result = await tx
    .updateTable('account_lockout')
    .set({locked_until: input.lockedUntil, consecutive_failures: 0, updated_at: input.now})
    .where('identifier_hash', '=', identifierHash)
    .where('consecutive_failures', '>=', input.threshold)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', input.now)]))
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** A completed login: the consecutive failures start again (a lock, if any, stays). */
export async function resetConsecutiveFailures(tx: Kysely<Database>, identifierHash: string, now: string): Promise<void> {
  await tx.updateTable('account_lockout').set({consecutive_failures: 0, updated_at: now}).where('identifier_hash', '=', identifierHash).where('consecutive_failures', '>', 0).execute()
}

/**
 * Clears the lock and the count of an identifier and of every row naming the user (an email
 * changed since). Returns whether any of them was locked at `now`.
 */
export async function clearLockouts(tx: Kysely<Database>, identifierHashes: string[], userId: string, now: string): Promise<{wasLocked: boolean}> {
  const matching = tx
    .selectFrom('account_lockout')
    .select(['locked_until'])
    .where((eb) => eb.or([eb('identifier_hash', 'in', identifierHashes), eb('user_id', '=', userId)]))
  const rows = await matching.execute()
  await tx
    .updateTable('account_lockout')
    .set({locked_until: null, consecutive_failures: 0, updated_at: now})
    .where((eb) => eb.or([eb('identifier_hash', 'in', identifierHashes), eb('user_id', '=', userId)]))
    .execute()
  return {wasLocked: rows.some((row) => row.locked_until !== null && row.locked_until > now)}
}

/** Deletes rows that are not locked and were not touched since `before`; returns how many. */
export async function purgeStaleLockouts(db: Kysely<Database>, now: string, before: string): Promise<number> {
  const result = await db
    .deleteFrom('account_lockout')
    .where('updated_at', '<', before)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
