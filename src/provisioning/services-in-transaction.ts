import type {Kysely} from 'kysely'
import type {Core} from '../core.js'
import type {Database} from '../db/database.js'
import type {RevocationSignal} from '../identity/revocation-signal.js'

export type TransactionServices = ReturnType<Core['servicesOn']>

/**
 * The core's administrative services on a transaction instead of the database, wired by the
 * core itself (Core.servicesOn, the same function that builds its own): every method's
 * `inTransaction(db, …)` then runs inside it (src/db/transaction.ts), so many calls make one
 * atomic unit, each still checking its rules and appending its audit event. `signal` stands in
 * for the revocation signal until the transaction commits (a listener must not read the
 * database from inside it).
 */
export function createServicesInTransaction(core: Core, tx: Kysely<Database>, signal: RevocationSignal): TransactionServices {
  return core.servicesOn(tx, signal)
}

/** A revocation signal that only remembers it was called; the caller notifies the real one after commit. */
export function createDeferredSignal(real: RevocationSignal): RevocationSignal & {isPending: () => boolean} {
  let isPending = false
  return {
    subscribe: (listener) => real.subscribe(listener),
    notify: async () => {
      isPending = true
    },
    isPending: () => isPending,
  }
}
