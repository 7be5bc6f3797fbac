import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {prepareQuery} from '../db/prepared-query.js'
import {listPermissionsOfRoles} from './role-repo.js'

/** The role and permissions a principal holds in one organization. */
export interface GrantRow {
  roleKey: string | null
  level: number
  permissions: string[]
}

// What every org-scoped request reads: compiled once per database handle (outside transactions,
// where reads like GET /v1/orgs/{org}/flags run), and the built-in roles' permissions, which
// only migrations change, remembered per handle.
interface PreparedGrantQueries {
  member: (userId: string, orgId: string) => Promise<MemberGrantQueryRow[]>
  permissions: (roleId: string) => Promise<{permission_key: string}[]>
  builtinPermissions: Map<string, string[]>
}
const preparedByHandle = new WeakMap<Kysely<Database>, PreparedGrantQueries>()

function preparedFor(db: Kysely<Database>): PreparedGrantQueries | null {
  if (db.isTransaction) return null
  let prepared = preparedByHandle.get(db)
  if (!prepared) {
    prepared = {
      member: prepareQuery(db, 2, (userId: string, orgId: string) => memberGrantQuery(db, userId, orgId)),
      permissions: prepareQuery(db, 1, (roleId: string) => permissionsOfRoleQuery(db, roleId)),
      builtinPermissions: new Map(),
    }
    preparedByHandle.set(db, prepared)
  }
  return prepared
}

const permissionsOfRoleQuery = (db: Kysely<Database>, roleId: string) => db.selectFrom('role_permission').select('permission_key').where('role_id', '=', roleId)

async function permissionsOfRole(db: Kysely<Database>, roleId: string, isBuiltin = false): Promise<string[]> {
  const prepared = preparedFor(db)
  if (!prepared) return (await permissionsOfRoleQuery(db, roleId).execute()).map((row) => row.permission_key)
  const remembered = isBuiltin ? prepared.builtinPermissions.get(roleId) : undefined
  if (remembered) return remembered
  const permissions = (await prepared.permissions(roleId)).map((row) => row.permission_key)
  if (isBuiltin) prepared.builtinPermissions.set(roleId, permissions)
  return permissions
}

const memberGrantQuery = (db: Kysely<Database>, userId: string, orgId: string) =>
  db
    .selectFrom('user_account')
    .leftJoin('membership', (join) => join.onRef('membership.user_id', '=', 'user_account.id').on('membership.org_id', '=', orgId))
    .leftJoin('role', 'role.id', 'membership.role_id')
    .select(['user_account.disabled_at', 'user_account.is_platform_admin', 'role.id as roleId', 'role.key as roleKey', 'role.level', 'role.is_builtin'])
    .where('user_account.id', '=', userId)
type MemberGrantQueryRow = Awaited<ReturnType<ReturnType<typeof memberGrantQuery>['executeTakeFirstOrThrow']>>

/**
 * A user's account state and, when `orgId` is given, their membership's role there with its
 * permissions — as they are now. `user` is null when the account no longer exists.
 */
export async function findMemberGrantRow(db: Kysely<Database>, userId: string, orgId: string | null): Promise<{user: {disabledAt: string | null; isPlatformAdmin: boolean} | null; grant: GrantRow | null}> {
  const prepared = preparedFor(db)
  const [row] = prepared ? await prepared.member(userId, orgId ?? '') : await memberGrantQuery(db, userId, orgId ?? '').execute()
  if (!row) return {user: null, grant: null}
  const user = {disabledAt: row.disabled_at, isPlatformAdmin: row.is_platform_admin === 1}
  if (!row.roleId || user.isPlatformAdmin) return {user, grant: null}
  return {user, grant: {roleKey: row.roleKey, level: row.level ?? 0, permissions: await permissionsOfRole(db, row.roleId, row.is_builtin === 1)}}
}

/** An API key's organization (null: a platform key) and what it grants there now. */
export interface ApiKeyGrantRow {
  isPlatform: boolean
  orgId: string | null
  grant: GrantRow
}

/**
 * How many keys-made-by-keys are followed back to the user or operator who started the chain;
 * a longer chain grants nothing (it also ends any loop a corrupted table could hold).
 */
export const MAX_KEY_CHAIN = 4

/**
 * A live (not revoked) API key's organization and grant: its role's level and permissions as
 * the role is now, or its own permission list (level 0: it grants no roles) — capped by what
 * its creator holds in the key's organization *now*, so a key cannot outlive its creator's
 * power: level min(key, creator), permissions the intersection. A user creator must still be
 * an active member (a platform admin: no cap); a key creator is capped the same way, up to
 * MAX_KEY_CHAIN keys deep; operators and the system are not capped. Null when the key is
 * revoked or gone, or its creator no longer holds anything there: callers refuse it like a
 * revoked key. A platform key needs a creator that is still a platform principal. Expiry is
 * checked when the key is authenticated.
 */
export async function findApiKeyGrantRow(db: Kysely<Database>, keyId: string): Promise<ApiKeyGrantRow | null> {
  return resolveKeyGrant(db, keyId, 0)
}

/** What caps a key: 'uncapped', the creator's grant, or null when the creator holds nothing now. */
type CreatorCap = 'uncapped' | GrantRow | null

async function resolveKeyGrant(db: Kysely<Database>, keyId: string, hops: number): Promise<ApiKeyGrantRow | null> {
  // One round trip for the key, its role, and a user creator's account and membership in the
  // key's org; one more for the permissions of both roles. This runs on every key request.
  const row = await db
    .selectFrom('api_key')
    .leftJoin('role', 'role.id', 'api_key.role_id')
    .leftJoin('user_account as creator', (join) => join.onRef('creator.id', '=', 'api_key.created_by_id').on('api_key.created_by_type', '=', 'user'))
    .leftJoin('membership as creator_membership', (join) => join.onRef('creator_membership.user_id', '=', 'creator.id').onRef('creator_membership.org_id', '=', 'api_key.org_id'))
    .leftJoin('role as creator_role', 'creator_role.id', 'creator_membership.role_id')
    .select([
      'api_key.org_id',
      'api_key.permissions',
      'api_key.revoked_at',
      'api_key.created_by_type',
      'api_key.created_by_id',
      'role.id as roleId',
      'role.key as roleKey',
      'role.level',
      'creator.id as creatorId',
      'creator.disabled_at as creatorDisabledAt',
      'creator.is_platform_admin as creatorIsPlatformAdmin',
      'creator_role.id as creatorRoleId',
      'creator_role.key as creatorRoleKey',
      'creator_role.level as creatorLevel',
    ])
    .where('api_key.id', '=', keyId)
    .executeTakeFirst()
  if (!row || row.revoked_at) return null
  const roleIds = [row.roleId, row.creatorRoleId].filter((id): id is string => id !== null)
  const permissionsByRole = await listPermissionsOfRoles(db, roleIds)

  let cap: CreatorCap
  switch (row.created_by_type) {
    case 'cli':
    case 'system':
      cap = 'uncapped'
      break
    case 'user':
      if (!row.creatorId || row.creatorDisabledAt) cap = null
      else if (row.creatorIsPlatformAdmin === 1) cap = 'uncapped'
      else cap = row.creatorRoleId ? {roleKey: row.creatorRoleKey, level: row.creatorLevel ?? 0, permissions: permissionsByRole.get(row.creatorRoleId) ?? []} : null
      break
    case 'api_key': {
      const creator = row.created_by_id && hops < MAX_KEY_CHAIN ? await resolveKeyGrant(db, row.created_by_id, hops + 1) : null
      if (!creator) cap = null
      else if (creator.isPlatform) cap = 'uncapped'
      else cap = creator.orgId === row.org_id ? creator.grant : null
      break
    }
    default:
      // An unknown creator kind is not trusted with anything.
      cap = null
  }
  if (cap === null) return null
  if (row.org_id === null) return cap === 'uncapped' ? {isPlatform: true, orgId: null, grant: {roleKey: null, level: 0, permissions: []}} : null

  const own: GrantRow = row.roleId
    ? {roleKey: row.roleKey, level: row.level ?? 0, permissions: permissionsByRole.get(row.roleId) ?? []}
    : {roleKey: null, level: 0, permissions: JSON.parse(row.permissions ?? '[]') as string[]}
  return {isPlatform: false, orgId: row.org_id, grant: cap === 'uncapped' ? own : capGrant(own, cap)}
}

/** The key's grant within its creator's: the lower level, the permissions both hold. */
function capGrant(own: GrantRow, cap: GrantRow): GrantRow {
  const held = new Set(cap.permissions)
  return {roleKey: own.roleKey, level: Math.min(own.level, cap.level), permissions: own.permissions.filter((permission) => held.has(permission))}
}
