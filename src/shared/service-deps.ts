import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import type {Clock} from '../security/clock.js'

/** What every service is built from; only createCore knows the concrete pieces. */
export interface ServiceDeps {
  db: Kysely<Database>
  clock: Clock
  newId: () => string
}

export function nowIso(deps: Pick<ServiceDeps, 'clock'>): string {
  return deps.clock.now().toISOString()
}
