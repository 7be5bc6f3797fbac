import type {Kysely} from 'kysely'
import {columnTypes} from './column-types.js'

// Frozen in time. Requests each daemon admitted per organization per minute window (window_start:
// milliseconds since the epoch), shared so that daemons on one database hold an org's rate limit
// together. Each daemon writes only its own rows; rows older than a few minutes are deleted.
// No foreign key: rows outlive nothing (an org purge need not wait for them).

export async function up(db: Kysely<any>): Promise<void> {
  const types = columnTypes(db)
  await db.schema
    .createTable('rate_limit_usage')
    .addColumn('org_id', 'text', (col) => col.notNull())
    .addColumn('daemon_id', 'text', (col) => col.notNull())
    .addColumn('window_start', types.bigInteger, (col) => col.notNull())
    .addColumn('used', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('rate_limit_usage_pk', ['org_id', 'daemon_id', 'window_start'])
    .execute()
  await db.schema.createIndex('rate_limit_usage_window_idx').on('rate_limit_usage').column('window_start').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_limit_usage').execute()
}
