import {sql, type Kysely} from 'kysely'
import type {Database} from './database.js'

/**
 * Runs `work` inside the caller's transaction under a savepoint and rolls it back: the
 * statements are executed (and cost what they cost) but leave nothing behind. For answers that
 * must take as long whether or not there was something to do (a reset request for an unknown
 * address). The same SQL on SQLite and Postgres.
 */
export async function runAndDiscard(tx: Kysely<Database>, name: string, work: () => Promise<void>): Promise<void> {
  if (!/^[a-z_]+$/.test(name)) throw new TypeError('a savepoint name is lowercase letters and _')
  await sql`savepoint ${sql.raw(name)}`.execute(tx)
  try {
    await work()
  } finally {
    await sql`rollback to savepoint ${sql.raw(name)}`.execute(tx)
    await sql`release savepoint ${sql.raw(name)}`.execute(tx)
  }
}
