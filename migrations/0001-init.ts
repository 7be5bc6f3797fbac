import type {Kysely} from 'kysely'
import {columnTypes} from './column-types.js'

// Frozen in time: this file never changes once released. The permission catalog and the
// built-in roles are copied here as they were at this version; later changes come as new
// migrations. test/integration checks that the database matches src/access/permission-catalog.ts.

const PERMISSIONS: [string, string][] = [
  ['org.read', 'See the organization'],
  ['org.update', 'Rename the organization or change its tier'],
  ['org.delete', 'Delete the organization'],
  ['members.read', 'List members and their roles'],
  ['members.invite', 'Invite or add members'],
  ['members.update_role', 'Change the role of members'],
  ['members.remove', 'Remove members'],
  ['roles.read', 'List roles and their permissions'],
  ['roles.manage', 'Create, change and delete custom roles'],
  ['flags.read', 'See feature flags and their values'],
  ['flags.manage', 'Set per-organization flag overrides'],
  ['audit.read', 'Read the audit log'],
  ['apikeys.manage', 'Create and revoke API keys'],
  ['webhooks.manage', 'Create and change outgoing webhooks'],
]

const ALL = PERMISSIONS.map(([key]) => key)
const BUILTIN_ROLES: {id: string; key: string; name: string; level: number; permissions: string[]}[] = [
  {id: 'builtin-owner', key: 'owner', name: 'Owner', level: 4, permissions: ALL},
  {id: 'builtin-admin', key: 'admin', name: 'Admin', level: 3, permissions: ALL.filter((key) => key !== 'org.delete')},
  {id: 'builtin-member', key: 'member', name: 'Member', level: 2, permissions: ['org.read', 'members.read', 'members.invite', 'roles.read', 'flags.read']},
  {id: 'builtin-viewer', key: 'viewer', name: 'Viewer', level: 1, permissions: ['org.read', 'members.read', 'roles.read', 'flags.read']},
]

export async function up(db: Kysely<any>): Promise<void> {
  const types = columnTypes(db)

  await db.schema
    .createTable('user_account')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('email', 'text', (col) => col.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('password_hash', 'text')
    .addColumn('is_platform_admin', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('email_verified_at', types.timestamp)
    .addColumn('password_changed_at', types.timestamp)
    .addColumn('disabled_at', types.timestamp)
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('updated_at', types.timestamp, (col) => col.notNull())
    .execute()

  await db.schema
    .createTable('organization')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('slug', 'text', (col) => col.notNull().unique())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('tier', 'text', (col) => col.notNull().defaultTo('free'))
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('updated_at', types.timestamp, (col) => col.notNull())
    .addColumn('deleted_at', types.timestamp)
    .execute()

  await db.schema
    .createTable('permission')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('description', 'text', (col) => col.notNull())
    .execute()

  await db.schema
    .createTable('role')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('org_id', 'text', (col) => col.references('organization.id'))
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('level', 'integer', (col) => col.notNull())
    .addColumn('is_builtin', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('updated_at', types.timestamp, (col) => col.notNull())
    .addUniqueConstraint('role_org_key_unique', ['org_id', 'key'])
    .execute()

  await db.schema
    .createTable('role_permission')
    .addColumn('role_id', 'text', (col) => col.notNull().references('role.id'))
    .addColumn('permission_key', 'text', (col) => col.notNull().references('permission.key'))
    .addPrimaryKeyConstraint('role_permission_pk', ['role_id', 'permission_key'])
    .execute()

  await db.schema
    .createTable('membership')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('org_id', 'text', (col) => col.notNull().references('organization.id'))
    .addColumn('user_id', 'text', (col) => col.notNull().references('user_account.id'))
    .addColumn('role_id', 'text', (col) => col.notNull().references('role.id'))
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('updated_at', types.timestamp, (col) => col.notNull())
    .addUniqueConstraint('membership_org_user_unique', ['org_id', 'user_id'])
    .execute()
  await db.schema.createIndex('membership_user_idx').on('membership').column('user_id').execute()
  await db.schema.createIndex('membership_role_idx').on('membership').column('role_id').execute()

  await db.schema
    .createTable('feature_flag')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('key', 'text', (col) => col.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('default_enabled', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('rollout_percentage', 'integer')
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('updated_at', types.timestamp, (col) => col.notNull())
    .execute()

  await db.schema
    .createTable('flag_override')
    .addColumn('flag_id', 'text', (col) => col.notNull().references('feature_flag.id'))
    .addColumn('org_id', 'text', (col) => col.notNull().references('organization.id'))
    .addColumn('enabled', 'integer', (col) => col.notNull())
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('updated_at', types.timestamp, (col) => col.notNull())
    .addPrimaryKeyConstraint('flag_override_pk', ['flag_id', 'org_id'])
    .execute()
  await db.schema.createIndex('flag_override_org_idx').on('flag_override').column('org_id').execute()

  // Append-only and hash-chained: seq is assigned under the chain lock, so it is gapless and
  // ordered; org_id and actor ids are plain text (no foreign keys) so the log outlives purges.
  await db.schema
    .createTable('audit_event')
    .addColumn('seq', types.bigInteger, (col) => col.primaryKey())
    .addColumn('id', 'text', (col) => col.notNull().unique())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('org_id', 'text')
    .addColumn('actor_type', 'text', (col) => col.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_name', 'text')
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('metadata', 'text', (col) => col.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('request_id', 'text')
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('prev_hash', 'text', (col) => col.notNull())
    .addColumn('hash', 'text', (col) => col.notNull())
    .execute()
  await db.schema.createIndex('audit_event_org_seq_idx').on('audit_event').columns(['org_id', 'seq']).execute()
  await db.schema.createIndex('audit_event_created_at_idx').on('audit_event').column('created_at').execute()
  await db.schema.createIndex('audit_event_actor_seq_idx').on('audit_event').columns(['actor_id', 'seq']).execute()

  await db.insertInto('permission').values(PERMISSIONS.map(([key, description]) => ({key, description}))).execute()
  const createdAt = '2026-11-23T00:00:00.000Z'
  await db
    .insertInto('role')
    .values(BUILTIN_ROLES.map(({id, key, name, level}) => ({id, org_id: null, key, name, level, is_builtin: 1, created_at: createdAt, updated_at: createdAt})))
    .execute()
  await db
    .insertInto('role_permission')
    .values(BUILTIN_ROLES.flatMap(({id, permissions}) => permissions.map((permission_key) => ({role_id: id, permission_key}))))
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['audit_event', 'flag_override', 'feature_flag', 'membership', 'role_permission', 'role', 'permission', 'organization', 'user_account']) {
    await db.schema.dropTable(table).execute()
  }
}
