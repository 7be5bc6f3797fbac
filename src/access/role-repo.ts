import type {Kysely} from 'kysely'
import type {Database, RoleRow} from '../db/database.js'
import {sharedQuery} from '../db/prepared-query.js'
import {DomainError} from '../errors/domain-error.js'

export interface Role {
  id: string
  key: string
  name: string
  level: number
  isBuiltin: boolean
  orgId: string | null
  permissions: string[]
}

// Compiled once (sharedQuery): every member add and role change runs it.
const selectRoleInOrg = sharedQuery(2, (db, key: string, orgId: string) =>
  (db as Kysely<Database>)
    .selectFrom('role')
    .selectAll()
    .where('key', '=', key)
    .where((eb) => eb.or([eb('org_id', '=', orgId), eb('org_id', 'is', null)])),
)

/** A role usable in an organization: a built-in role, or a custom role of that organization. */
export async function findRoleInOrg(db: Kysely<Database>, orgId: string, key: string): Promise<RoleRow | null> {
  return (await selectRoleInOrg(db, key.trim().toLowerCase(), orgId)).rows[0] ?? null
}

/** Raises `role.not_found`. */
export async function requireRoleInOrg(db: Kysely<Database>, orgId: string, orgSlug: string, key: string): Promise<RoleRow> {
  const row = await findRoleInOrg(db, orgId, key)
  if (!row) throw new DomainError('role.not_found', `No role "${key}" in organization "${orgSlug}"`)
  return row
}

export async function listPermissionsOfRoles(db: Kysely<Database>, roleIds: string[]): Promise<Map<string, string[]>> {
  const byRole = new Map<string, string[]>(roleIds.map((id) => [id, []]))
  if (roleIds.length === 0) return byRole
  const rows = await db.selectFrom('role_permission').selectAll().where('role_id', 'in', roleIds).orderBy('permission_key').execute()
  for (const row of rows) byRole.get(row.role_id)?.push(row.permission_key)
  return byRole
}

export function toRole(row: RoleRow, permissions: string[]): Role {
  return {id: row.id, key: row.key, name: row.name, level: row.level, isBuiltin: row.is_builtin === 1, orgId: row.org_id, permissions}
}

export const OWNER_ROLE_KEY = 'owner'

/** The users who hold a role in its organization. */
export async function listRoleHolderIds(db: Kysely<Database>, roleId: string): Promise<string[]> {
  const rows = await db.selectFrom('membership').select('user_id').where('role_id', '=', roleId).orderBy('user_id').execute()
  return rows.map((row) => row.user_id)
}

/** How many members, and how many live (unrevoked) API keys, hold a role. */
export async function countRoleHolders(db: Kysely<Database>, roleId: string): Promise<{members: number; apiKeys: number}> {
  const members = await db.selectFrom('membership').select((eb) => eb.fn.countAll<number>().as('count')).where('role_id', '=', roleId).executeTakeFirstOrThrow()
  const apiKeys = await db.selectFrom('api_key').select((eb) => eb.fn.countAll<number>().as('count')).where('role_id', '=', roleId).where('revoked_at', 'is', null).executeTakeFirstOrThrow()
  return {members: Number(members.count), apiKeys: Number(apiKeys.count)}
}

/**
 * Lets go of a role that only revoked API keys still name, so the role can be deleted (the
 * foreign key would refuse it otherwise); a revoked key grants nothing either way.
 */
export async function detachRoleFromRevokedApiKeys(db: Kysely<Database>, roleId: string): Promise<void> {
  await db.updateTable('api_key').set({role_id: null}).where('role_id', '=', roleId).where('revoked_at', 'is not', null).execute()
}
