import type {Kysely} from 'kysely'
import {dialectOf} from '../src/db/dialect-helpers.js'

/**
 * The column types that differ between the dialects, decided here for every migration:
 * timestamps are timestamptz in Postgres and ISO text in SQLite; 64-bit counters are bigint
 * in Postgres and integer in SQLite.
 */
export function columnTypes(db: Kysely<any>) {
  const isPostgres = dialectOf(db) === 'postgres'
  return {
    timestamp: isPostgres ? ('timestamptz' as const) : ('text' as const),
    bigInteger: isPostgres ? ('bigint' as const) : ('integer' as const),
  }
}
