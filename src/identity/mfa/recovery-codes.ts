import {createHmac, randomInt} from 'node:crypto'
import type {Kysely} from 'kysely'
import type {Database} from '../../db/database.js'
import type {ServiceDeps} from '../../shared/service-deps.js'

export const RECOVERY_CODE_COUNT = 10
// Lowercase letters and digits without the look-alikes 0/o, 1/l/i: 31 symbols, ~5 bits each.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'
const GROUP_LENGTH = 5

/**
 * One recovery code: two groups of five (`k7mq2-xw9rt`), ~50 bits from the OS CSPRNG. Each
 * works once and only behind the password.
 */
function newRecoveryCode(): string {
  const pick = () => Array.from({length: GROUP_LENGTH}, () => ALPHABET[randomInt(ALPHABET.length)]).join('')
  return `${pick()}-${pick()}`
}

/** How a recovery code is compared: lowercase, without spaces or dashes. */
export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, '')
}

/**
 * How a code is stored: HMAC-SHA256 under the deployment's secret key, bound to its user. ~50
 * bits are too few for a plain hash: with a copy of the database alone, unkeyed hashes could be
 * guessed offline (against every user at once, were they unsalted); keyed, the copy is useless
 * without the key, which is kept outside the database.
 */
const hashRecoveryCode = (key: Buffer, userId: string, code: string) => createHmac('sha256', key).update(`recovery_code:${userId}:${normalizeRecoveryCode(code)}`, 'utf8').digest('hex')

/** Replaces the user's recovery codes with fresh ones; returns them in clear, to show once. */
export async function replaceRecoveryCodes(db: Kysely<Database>, deps: Pick<ServiceDeps, 'clock' | 'newId'>, key: Buffer, userId: string): Promise<string[]> {
  await deleteRecoveryCodes(db, userId)
  const codes = Array.from({length: RECOVERY_CODE_COUNT}, newRecoveryCode)
  const now = deps.clock.now().toISOString()
  await db
    .insertInto('recovery_code')
    .values(codes.map((code) => ({id: deps.newId(), user_id: userId, code_hash: hashRecoveryCode(key, userId, code), created_at: now, used_at: null})))
    .execute()
  return codes
}

/** Marks an unused code of the user as used; true for exactly one of two racing requests. */
export async function consumeRecoveryCode(db: Kysely<Database>, key: Buffer, userId: string, code: string, now: string): Promise<boolean> {
  const normalized = normalizeRecoveryCode(code)
  if (normalized.length === 0) return false
  const result = await db
    .updateTable('recovery_code')
    .set({used_at: now})
    .where('user_id', '=', userId)
    .where('code_hash', '=', hashRecoveryCode(key, userId, normalized))
    .where('used_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** How many of the user's recovery codes are still unused. */
export async function countUnusedRecoveryCodes(db: Kysely<Database>, userId: string): Promise<number> {
  const row = await db.selectFrom('recovery_code').select((eb) => eb.fn.countAll<number>().as('count')).where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirstOrThrow()
  return Number(row.count)
}

export async function deleteRecoveryCodes(db: Kysely<Database>, userId: string): Promise<number> {
  const result = await db.deleteFrom('recovery_code').where('user_id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows)
}
