import {sql, type Kysely} from 'kysely'
import {columnTypes} from './column-types.js'

// Frozen in time. Invitations to join an organization with a role, by email: the accept link's
// token is stored only as its SHA-256; at most one pending invitation per (organization, email).

export async function up(db: Kysely<any>): Promise<void> {
  const types = columnTypes(db)
  await db.schema
    .createTable('invitation')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('org_id', 'text', (col) => col.notNull().references('organization.id'))
    // Trimmed and lowercased, like user_account.email.
    .addColumn('email', 'text', (col) => col.notNull())
    // No foreign key: a custom role deleted meanwhile makes the invitation unusable, not the deletion impossible.
    .addColumn('role_id', 'text', (col) => col.notNull())
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    // Who invited: the actor's type (user, api_key, operator, system), id and name when it was sent.
    .addColumn('invited_by_type', 'text', (col) => col.notNull())
    .addColumn('invited_by_id', 'text')
    .addColumn('invited_by_name', 'text')
    // pending | accepted | revoked | expired (expired: replaced by a new invitation after its expiry)
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('expires_at', types.timestamp, (col) => col.notNull())
    .addColumn('sent_at', types.timestamp, (col) => col.notNull())
    .addColumn('resend_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('accepted_at', types.timestamp)
    .addColumn('accepted_user_id', 'text')
    .addColumn('revoked_at', types.timestamp)
    .execute()
  // One pending invitation per address and organization, on both dialects (partial unique index).
  await db.schema.createIndex('invitation_pending_email_idx').on('invitation').columns(['org_id', 'email']).unique().where(sql.ref('status'), '=', sql.lit('pending')).execute()
  await db.schema.createIndex('invitation_org_status_idx').on('invitation').columns(['org_id', 'status', 'expires_at']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('invitation').execute()
}
