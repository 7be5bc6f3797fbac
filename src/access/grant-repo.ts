import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'

/** The role and permissions a principal holds in one organization. */
export interface GrantRow {
  roleKey: string | null
  level: number
  permissions: string[]
}

async function permissionsOfRole(db: Kysely<Database>, roleId: string): Promise<string[]> {
  const rows = await db.selectFrom('role_permission').select('permission_key').where('role_id', '=', roleId).execute()
  return rows.map((row) => row.permission_key)
}

/**
 * A user's account state and, when `orgId` is given, their membership's role there with its
 * permissions — as they are now. `user` is null when the account no longer exists.
 */
export async function findMemberGrantRow(db: Kysely<Database>, userId: string, orgId: string | null): Promise<{user: {disabledAt: string | null; isPlatformAdmin: boolean} | null; grant: GrantRow | null}> {
  const row = await db
    .selectFrom('user_account')
    .leftJoin('membership', (join) => join.onRef('membership.user_id', '=', 'user_account.id').on('membership.org_id', '=', orgId ?? ''))
    .leftJoin('role', 'role.id', 'membership.role_id')
    .select(['user_account.disabled_at', 'user_account.is_platform_admin', 'role.id as roleId', 'role.key as roleKey', 'role.level'])
    .where('user_account.id', '=', userId)
    .executeTakeFirst()
  if (!row) return {user: null, grant: null}
  const user = {disabledAt: row.disabled_at, isPlatformAdmin: row.is_platform_admin === 1}
  if (!row.roleId || user.isPlatformAdmin) return {user, grant: null}
  return {user, grant: {roleKey: row.roleKey, level: row.level ?? 0, permissions: await permissionsOfRole(db, row.roleId)}}
}

/**
 * A live (not revoked) API key's organization and grant: its role's level and permissions as
 * the role is now, or its own permission list (level 0: it grants no roles). Null when revoked
 * or gone. Expiry is checked when the key is authenticated.
 */
export async function findApiKeyGrantRow(db: Kysely<Database>, keyId: string): Promise<{isPlatform: boolean; orgId: string | null; grant: GrantRow} | null> {
  const row = await db
    .selectFrom('api_key')
    .leftJoin('role', 'role.id', 'api_key.role_id')
    .select(['api_key.org_id', 'api_key.permissions', 'api_key.revoked_at', 'role.id as roleId', 'role.key as roleKey', 'role.level'])
    .where('api_key.id', '=', keyId)
    .executeTakeFirst()
  if (!row || row.revoked_at) return null
  if (row.org_id === null) return {isPlatform: true, orgId: null, grant: {roleKey: null, level: 0, permissions: []}}
  const grant: GrantRow = row.roleId
    ? {roleKey: row.roleKey, level: row.level ?? 0, permissions: await permissionsOfRole(db, row.roleId)}
    : {roleKey: null, level: 0, permissions: JSON.parse(row.permissions ?? '[]') as string[]}
  return {isPlatform: false, orgId: row.org_id, grant}
}
