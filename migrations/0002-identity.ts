import type {Kysely} from 'kysely'
import {columnTypes} from './column-types.js'

// Frozen in time. The identity daemon's tables: signing keys, sessions, refresh tokens, the
// ordered revocation log every daemon follows, and leases that run each cron job once per tick.

export async function up(db: Kysely<any>): Promise<void> {
  const types = columnTypes(db)

  await db.schema
    .createTable('signing_key')
    .addColumn('kid', 'text', (col) => col.primaryKey())
    .addColumn('algorithm', 'text', (col) => col.notNull())
    .addColumn('public_jwk', 'text', (col) => col.notNull())
    .addColumn('private_jwk', 'text', (col) => col.notNull())
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('retired_at', types.timestamp)
    .execute()

  await db.schema
    .createTable('session')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('user_account.id'))
    .addColumn('org_id', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('last_used_at', types.timestamp, (col) => col.notNull())
    .addColumn('expires_at', types.timestamp, (col) => col.notNull())
    .addColumn('revoked_at', types.timestamp)
    .addColumn('revoked_reason', 'text')
    .execute()
  await db.schema.createIndex('session_user_created_idx').on('session').columns(['user_id', 'created_at']).execute()
  await db.schema.createIndex('session_expires_idx').on('session').column('expires_at').execute()

  await db.schema
    .createTable('refresh_token')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('session_id', 'text', (col) => col.notNull().references('session.id'))
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('expires_at', types.timestamp, (col) => col.notNull())
    .addColumn('rotated_at', types.timestamp)
    .execute()
  await db.schema.createIndex('refresh_token_session_idx').on('refresh_token').column('session_id').execute()
  await db.schema.createIndex('refresh_token_expires_idx').on('refresh_token').column('expires_at').execute()

  // seq is assigned under a lock (max + 1), so followers reading "seq > last" never skip a
  // revocation that commits late.
  await db.schema
    .createTable('revocation')
    .addColumn('seq', types.bigInteger, (col) => col.primaryKey())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('subject', 'text', (col) => col.notNull())
    .addColumn('not_before', types.timestamp)
    .addColumn('reason', 'text', (col) => col.notNull())
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('expires_at', types.timestamp, (col) => col.notNull())
    .execute()
  await db.schema.createIndex('revocation_expires_idx').on('revocation').column('expires_at').execute()

  await db.schema
    .createTable('job_lease')
    .addColumn('name', 'text', (col) => col.primaryKey())
    .addColumn('holder', 'text')
    .addColumn('last_tick_at', types.timestamp)
    .addColumn('last_started_at', types.timestamp)
    .addColumn('last_finished_at', types.timestamp)
    .addColumn('last_result', 'text')
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['job_lease', 'revocation', 'refresh_token', 'session', 'signing_key']) {
    await db.schema.dropTable(table).execute()
  }
}
