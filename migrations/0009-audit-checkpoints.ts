import type {Kysely} from 'kysely'
import {columnTypes} from './column-types.js'

// Frozen in time. Signed checkpoints of the audit hash chain: `head` names the newest event
// (seq and hash) as of the last append that wrote it; `pruned` names the last event retention
// deleted, where verification starts instead of the genesis hash. Each row carries an
// HMAC-SHA256 under a key derived from the deployment's secret key, which is kept outside the
// database, so a copy of the database alone can neither forge nor move a checkpoint forward.

export async function up(db: Kysely<any>): Promise<void> {
  const types = columnTypes(db)
  await db.schema
    .createTable('audit_checkpoint')
    // 'head' | 'pruned': at most one row each.
    .addColumn('kind', 'text', (col) => col.primaryKey())
    .addColumn('seq', types.bigInteger, (col) => col.notNull())
    .addColumn('hash', 'text', (col) => col.notNull())
    .addColumn('mac', 'text', (col) => col.notNull())
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_checkpoint').execute()
}
