import type {Kysely} from 'kysely'
import type {Database, RoleRow} from '../db/database.js'
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

/** A role usable in an organization: a built-in role, or a custom role of that organization. */
export async function findRoleInOrg(db: Kysely<Database>, orgId: string, key: string): Promise<RoleRow | null> {
  const row = await db
    .selectFrom('role')
    .selectAll()
    .where('key', '=', key.trim().toLowerCase())
    .where((eb) => eb.or([eb('org_id', '=', orgId), eb('org_id', 'is', null)]))
    .executeTakeFirst()
  return row ?? null
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
