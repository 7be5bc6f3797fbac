import type {Kysely, Transaction} from 'kysely'
import type {Database} from './database.js'

/**
 * Runs `work` in a transaction, or inside the caller's transaction when `db` already is one,
 * so services compose: several service calls can share one atomic unit.
 */
export async function inTransaction<Result>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<Result>): Promise<Result> {
  if (db.isTransaction) return work(db as Transaction<Database>)
  return db.transaction().execute(work)
}
