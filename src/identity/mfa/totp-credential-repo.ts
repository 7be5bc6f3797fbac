import type {Kysely} from 'kysely'
import type {Database} from '../../db/database.js'

export interface TotpCredentialRow {
  userId: string
  secretSealed: string
  confirmedAt: string | null
  lastUsedStep: number | null
}

/** The user's TOTP credential, confirmed or pending; null when there is none. */
export async function findTotpCredential(db: Kysely<Database>, userId: string): Promise<TotpCredentialRow | null> {
  const row = await db.selectFrom('totp_credential').select(['user_id', 'secret_sealed', 'confirmed_at', 'last_used_step']).where('user_id', '=', userId).executeTakeFirst()
  if (!row) return null
  return {userId: row.user_id, secretSealed: row.secret_sealed, confirmedAt: row.confirmed_at, lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step)}
}

/** Stores a pending (unconfirmed) credential, replacing any pending one of the user. */
export async function replacePendingCredential(db: Kysely<Database>, userId: string, secretSealed: string, now: string): Promise<void> {
  await db.deleteFrom('totp_credential').where('user_id', '=', userId).where('confirmed_at', 'is', null).execute()
  await db.insertInto('totp_credential').values({user_id: userId, secret_sealed: secretSealed, confirmed_at: null, last_used_step: null, created_at: now, updated_at: now}).execute()
}

/**
 * Confirms the pending credential and records the step of the code that confirmed it (so that
 * code cannot be used again). False when there was no pending credential any more.
 */
export async function confirmCredential(db: Kysely<Database>, userId: string, step: number, now: string): Promise<boolean> {
  const result = await db
    .updateTable('totp_credential')
    .set({confirmed_at: now, last_used_step: step, updated_at: now})
    .where('user_id', '=', userId)
    .where('confirmed_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/**
 * Records `step` as the newest one used, only if it is newer than the one recorded: of two
 * requests presenting one code, exactly one gets true.
 */
export async function claimTimeStep(db: Kysely<Database>, userId: string, step: number, now: string): Promise<boolean> {
  const result = await db
    .updateTable('totp_credential')
    .set({last_used_step: step, updated_at: now})
    .where('user_id', '=', userId)
    .where('confirmed_at', 'is not', null)
    .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Deletes the user's credential, confirmed or pending; returns how many rows went. */
export async function deleteTotpCredential(db: Kysely<Database>, userId: string): Promise<number> {
  const result = await db.deleteFrom('totp_credential').where('user_id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows)
}
