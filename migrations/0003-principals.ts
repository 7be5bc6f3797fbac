import type {Kysely} from 'kysely'
import {columnTypes} from './column-types.js'

// Frozen in time. Principals beyond users: API keys (of one organization, or platform keys
// with no organization), and custom domains that name an organization at login.

export async function up(db: Kysely<any>): Promise<void> {
  const types = columnTypes(db)

  await db.schema.alterTable('organization').addColumn('domain', 'text').execute()
  // Unique where set: several organizations may have none (NULLs are distinct on both dialects).
  await db.schema.createIndex('organization_domain_idx').on('organization').column('domain').unique().execute()

  await db.schema
    .createTable('api_key')
    .addColumn('id', 'text', (col) => col.primaryKey())
    // null: a platform key, which may act on every organization.
    .addColumn('org_id', 'text', (col) => col.references('organization.id'))
    .addColumn('name', 'text', (col) => col.notNull())
    // The visible start of the secret (sk_ and a few characters), to tell keys apart in lists.
    .addColumn('prefix', 'text', (col) => col.notNull())
    // SHA-256 of the whole secret; the secret itself is shown once and never stored.
    .addColumn('secret_hash', 'text', (col) => col.notNull().unique())
    // Either a role (the key has that role's level and permissions, as the role is now) …
    .addColumn('role_id', 'text', (col) => col.references('role.id'))
    // … or a JSON array of permission keys (the key grants no roles).
    .addColumn('permissions', 'text')
    .addColumn('created_by_type', 'text', (col) => col.notNull())
    .addColumn('created_by_id', 'text')
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('expires_at', types.timestamp)
    .addColumn('last_used_at', types.timestamp)
    .addColumn('revoked_at', types.timestamp)
    .execute()
  await db.schema.createIndex('api_key_org_name_idx').on('api_key').columns(['org_id', 'name']).unique().execute()
  await db.schema.createIndex('api_key_role_idx').on('api_key').column('role_id').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('api_key').execute()
  await db.schema.dropIndex('organization_domain_idx').execute()
  await db.schema.alterTable('organization').dropColumn('domain').execute()
}
