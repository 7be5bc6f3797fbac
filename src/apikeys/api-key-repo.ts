import type {Kysely} from 'kysely'
import {PERMISSION_KEYS} from '../access/permission-catalog.js'
import {listPermissionsOfRoles} from '../access/role-repo.js'
import type {ApiKeyRow, Database} from '../db/database.js'

/** An API key as services return it: never its secret or hash. */
export interface ApiKey {
  id: string
  /** null: a platform key, which may act on every organization. */
  orgId: string | null
  isPlatform: boolean
  name: string
  /** The visible start of the secret (`sk_…`), to tell keys apart. */
  prefix: string
  /** The key's role; null for a key made of a permission list (or a platform key). */
  role: string | null
  /** What the key may do now: its role's permissions as the role is now, or its own list; a platform key, the whole catalog. */
  permissions: string[]
  status: 'active' | 'expired' | 'revoked'
  createdBy: {type: string; id: string | null}
  createdAt: string
  expiresAt: string | null
  lastUsedAt: string | null
  revokedAt: string | null
}

type ApiKeyRowWithRole = ApiKeyRow & {role_key: string | null}

function selectKeys(db: Kysely<Database>) {
  return db.selectFrom('api_key').leftJoin('role', 'role.id', 'api_key.role_id').selectAll('api_key').select('role.key as role_key')
}

export async function insertApiKey(db: Kysely<Database>, row: ApiKeyRow): Promise<void> {
  await db.insertInto('api_key').values(row).execute()
}

/** A key by the hash of its secret (any state); null when there is none. */
export async function findApiKeyByHash(db: Kysely<Database>, secretHash: string): Promise<ApiKeyRow | null> {
  return (await db.selectFrom('api_key').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst()) ?? null
}

/** A key by id (with its role's level), of the organization `orgId` when given (null: platform keys only); null when there is none. */
export async function findApiKeyById(db: Kysely<Database>, id: string, scope?: {orgId: string | null}): Promise<(ApiKeyRowWithRole & {role_level: number | null}) | null> {
  let query = selectKeys(db).select('role.level as role_level').where('api_key.id', '=', id)
  if (scope) query = scope.orgId === null ? query.where('api_key.org_id', 'is', null) : query.where('api_key.org_id', '=', scope.orgId)
  return (await query.executeTakeFirst()) ?? null
}

/** Whether a key of that name exists in the organization (null: among platform keys), revoked keys included. */
export async function isApiKeyNameTaken(db: Kysely<Database>, orgId: string | null, name: string): Promise<boolean> {
  const query = db.selectFrom('api_key').select('id').where('name', '=', name)
  const row = await (orgId === null ? query.where('org_id', 'is', null) : query.where('org_id', '=', orgId)).executeTakeFirst()
  return row !== undefined
}

/** The keys of an organization (null: platform keys), oldest first, revoked ones included. */
export async function listApiKeyRows(db: Kysely<Database>, orgId: string | null): Promise<ApiKeyRowWithRole[]> {
  const query = selectKeys(db).orderBy('api_key.created_at').orderBy('api_key.id')
  return (orgId === null ? query.where('api_key.org_id', 'is', null) : query.where('api_key.org_id', '=', orgId)).execute()
}

/** Marks a live key revoked; returns whether this call revoked it. */
export async function markApiKeyRevoked(db: Kysely<Database>, id: string, now: string): Promise<boolean> {
  const result = await db.updateTable('api_key').set({revoked_at: now}).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** Records a use unless one was recorded after `staleBefore`, so a busy key writes at most once per interval. */
export async function touchApiKeyLastUsed(db: Kysely<Database>, id: string, now: string, staleBefore: string): Promise<void> {
  await db
    .updateTable('api_key')
    .set({last_used_at: now})
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', staleBefore)]))
    .execute()
}

/** Deletes every key of an organization (its purge); returns how many. */
export async function deleteApiKeysOfOrg(db: Kysely<Database>, orgId: string): Promise<number> {
  const result = await db.deleteFrom('api_key').where('org_id', '=', orgId).executeTakeFirst()
  return Number(result.numDeletedRows)
}

/** Public shapes of key rows, with each role key's permissions as the role is now. */
export async function toApiKeys(db: Kysely<Database>, rows: ApiKeyRowWithRole[], now: string): Promise<ApiKey[]> {
  const roleIds = [...new Set(rows.flatMap((row) => (row.role_id ? [row.role_id] : [])))]
  const permissionsByRole = await listPermissionsOfRoles(db, roleIds)
  return rows.map((row) => {
    const permissions = row.role_id ? (permissionsByRole.get(row.role_id) ?? []) : (JSON.parse(row.permissions ?? '[]') as string[])
    return toApiKey(row, permissions, now)
  })
}

export function toApiKey(row: ApiKeyRowWithRole, permissions: string[], now: string): ApiKey {
  return {
    id: row.id,
    orgId: row.org_id,
    isPlatform: row.org_id === null,
    name: row.name,
    prefix: row.prefix,
    role: row.role_key,
    permissions: row.org_id === null ? [...PERMISSION_KEYS] : permissions,
    status: statusOf(row, now),
    createdBy: {type: row.created_by_type, id: row.created_by_id},
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  }
}

export function statusOf(row: Pick<ApiKeyRow, 'revoked_at' | 'expires_at'>, now: string): ApiKey['status'] {
  if (row.revoked_at) return 'revoked'
  if (row.expires_at !== null && row.expires_at <= now) return 'expired'
  return 'active'
}
