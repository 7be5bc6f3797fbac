import type {Kysely} from 'kysely'
import {columnTypes} from './column-types.js'

// Frozen in time. Account security: the mail outbox, one-time tokens (email verification,
// password reset, the second step of a 2FA login), the failed-attempt log and lockouts, TOTP
// credentials with their recovery codes, the devices a user has logged in from, and the
// organizations that require 2FA.

export async function up(db: Kysely<any>): Promise<void> {
  const types = columnTypes(db)

  // Written in the transaction of the change that causes the mail; delivered by a job.
  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('to_address', 'text', (col) => col.notNull())
    .addColumn('user_id', 'text')
    .addColumn('subject', 'text', (col) => col.notNull())
    // Sealed with the secret key (the bodies carry one-time links); emptied once sent.
    .addColumn('body_sealed', 'text')
    // The Message-ID header: the same on every attempt, so a repeated send is recognizable.
    .addColumn('message_id', 'text', (col) => col.notNull().unique())
    // pending | sent | failed
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('next_attempt_at', types.timestamp, (col) => col.notNull())
    // A daemon that claimed the row sends it until then; after, another may claim it again.
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', types.timestamp)
    .addColumn('last_error', 'text')
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('sent_at', types.timestamp)
    .execute()
  await db.schema.createIndex('mail_outbox_due_idx').on('mail_outbox').columns(['status', 'next_attempt_at']).execute()

  // Links and steps that work once: stored as SHA-256 hashes, expiry checked by the server.
  await db.schema
    .createTable('one_time_token')
    .addColumn('id', 'text', (col) => col.primaryKey())
    // verify_email | password_reset | mfa_login
    .addColumn('purpose', 'text', (col) => col.notNull())
    .addColumn('user_id', 'text', (col) => col.notNull().references('user_account.id'))
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    // The address a verification token verifies (a later email change voids it).
    .addColumn('email', 'text')
    // JSON text: what the next step needs (e.g. the organization a 2FA login asked for).
    .addColumn('data', 'text')
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('expires_at', types.timestamp, (col) => col.notNull())
    .addColumn('used_at', types.timestamp)
    .execute()
  await db.schema.createIndex('one_time_token_user_idx').on('one_time_token').columns(['user_id', 'purpose']).execute()
  await db.schema.createIndex('one_time_token_expires_idx').on('one_time_token').column('expires_at').execute()

  // Every attempt that can be guessed at: logins, 2FA codes, reset and verification tokens.
  await db.schema
    .createTable('auth_attempt')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('kind', 'text', (col) => col.notNull())
    // SHA-256 of what was tried against (a normalized email, a user id); never the value itself.
    .addColumn('identifier_hash', 'text')
    .addColumn('user_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    // success | failure | throttled | locked
    .addColumn('outcome', 'text', (col) => col.notNull())
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .execute()
  await db.schema.createIndex('auth_attempt_identifier_idx').on('auth_attempt').columns(['kind', 'identifier_hash', 'created_at']).execute()
  await db.schema.createIndex('auth_attempt_ip_idx').on('auth_attempt').columns(['kind', 'ip', 'created_at']).execute()
  await db.schema.createIndex('auth_attempt_created_idx').on('auth_attempt').column('created_at').execute()

  // Consecutive failures and the lock, per hashed identifier: an unknown email is counted and
  // locked exactly like a known one, so the lock cannot tell which accounts exist.
  await db.schema
    .createTable('account_lockout')
    .addColumn('identifier_hash', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text')
    .addColumn('consecutive_failures', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('locked_until', types.timestamp)
    .addColumn('updated_at', types.timestamp, (col) => col.notNull())
    .execute()
  await db.schema.createIndex('account_lockout_user_idx').on('account_lockout').column('user_id').execute()

  await db.schema
    .createTable('totp_credential')
    .addColumn('user_id', 'text', (col) => col.primaryKey().references('user_account.id'))
    // The shared secret, sealed with the secret key.
    .addColumn('secret_sealed', 'text', (col) => col.notNull())
    // null until the user confirmed a code: until then 2FA is not on.
    .addColumn('confirmed_at', types.timestamp)
    // The newest time step accepted: a code of that step or an older one is a replay.
    .addColumn('last_used_step', types.bigInteger)
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('updated_at', types.timestamp, (col) => col.notNull())
    .execute()

  await db.schema
    .createTable('recovery_code')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('user_account.id'))
    .addColumn('code_hash', 'text', (col) => col.notNull())
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('used_at', types.timestamp)
    .execute()
  await db.schema.createIndex('recovery_code_user_idx').on('recovery_code').column('user_id').execute()

  // Device/IP families a user logged in from; a login from a new one is audited and mailed.
  await db.schema
    .createTable('known_device')
    .addColumn('user_id', 'text', (col) => col.notNull().references('user_account.id'))
    .addColumn('fingerprint', 'text', (col) => col.notNull())
    .addColumn('first_seen_at', types.timestamp, (col) => col.notNull())
    .addColumn('last_seen_at', types.timestamp, (col) => col.notNull())
    .addPrimaryKeyConstraint('known_device_pk', ['user_id', 'fingerprint'])
    .execute()

  await db.schema.alterTable('organization').addColumn('require_2fa', 'integer', (col) => col.notNull().defaultTo(0)).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('organization').dropColumn('require_2fa').execute()
  for (const table of ['known_device', 'recovery_code', 'totp_credential', 'account_lockout', 'auth_attempt', 'one_time_token', 'mail_outbox']) {
    await db.schema.dropTable(table).execute()
  }
}
