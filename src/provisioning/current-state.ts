import type {Kysely} from 'kysely'
import type {Database, OrganizationRow} from '../db/database.js'
import type {SeatUsage} from '../tenancy/seat-limit.js'
import {toOrganization, type Organization} from '../tenancy/org-repo.js'
import {UNLIMITED_OVERRIDE} from '../tenancy/tiers.js'

/**
 * What the database holds of what a provisioning file names, read in a few queries (by chunks
 * of keys, never one query per object), so planning 1,000 orgs costs the same few statements.
 * Reads only: every write goes through the services.
 */
export interface CurrentUser {
  id: string
  email: string
  name: string | null
  disabled: boolean
}

export interface CurrentFlag {
  id: string
  key: string
  description: string | null
  defaultEnabled: boolean
  rollout: number | null
}

export interface CurrentRole {
  id: string
  key: string
  name: string
  level: number
  permissions: string[]
}

export interface CurrentApiKey {
  id: string
  name: string
  role: string | null
  permissions: string[] | null
  expiresAt: string | null
  isRevoked: boolean
  isExpired: boolean
}

/** An organization as the services show it (toOrganization), with what the plan compares beside it. */
export interface CurrentOrg extends Organization {
  deleted: boolean
  seatLimit: number | null
  rpmLimit: number | null
  /** The row as stored (the seat rule of src/tenancy/seat-limit.ts reads it). */
  row: OrganizationRow
  /** email → role key, and whether the user is disabled (a disabled owner does not count as one) */
  members: Map<string, CurrentMember>
  /** custom roles by key */
  roles: Map<string, CurrentRole>
  /** flag key → on/off */
  overrides: Map<string, 'on' | 'off'>
  /** every key by name, revoked ones too (a revoked key keeps its name) */
  apiKeys: Map<string, CurrentApiKey>
}

export interface CurrentMember {
  role: string
  disabled: boolean
}

export interface CurrentState {
  users: Map<string, CurrentUser>
  flags: Map<string, CurrentFlag>
  orgs: Map<string, CurrentOrg>
  /** How the seats are taken now, for the existing organizations the file adds members to. */
  seats: Map<string, SeatUsage>
  /** domain → slug of the org holding it, for the domains the file names */
  domains: Map<string, string>
  permissions: Set<string>
}

const CHUNK = 500

/** The items in lists of `size` (keys for `where … in`, changes per transaction). */
export function chunksOf<Item>(items: readonly Item[], size = CHUNK): Item[][] {
  const chunks: Item[][] = []
  for (let index = 0; index < items.length; index += size) chunks.push(items.slice(index, index + size))
  return chunks
}

/** A limit override as the file writes it: a number, "unlimited", or null (the tier's). */
export type Limit = number | 'unlimited' | null

/** A stored seat_limit / rpm_limit as the file writes it. */
export function shownLimit(stored: number | null): Limit {
  if (stored === null) return null
  return stored < 0 ? 'unlimited' : stored
}

/** A limit of the file as seat_limit / rpm_limit store it. */
export function storedLimit(limit: Limit): number | null {
  return limit === 'unlimited' ? UNLIMITED_OVERRIDE : limit
}

/** Users by email, for the emails given. */
export async function readUsers(db: Kysely<Database>, emails: string[]): Promise<Map<string, CurrentUser>> {
  const users = new Map<string, CurrentUser>()
  for (const chunk of chunksOf([...new Set(emails)])) {
    const rows = await db.selectFrom('user_account').select(['id', 'email', 'name', 'disabled_at']).where('email', 'in', chunk).execute()
    for (const row of rows) users.set(row.email, {id: row.id, email: row.email, name: row.name, disabled: row.disabled_at !== null})
  }
  return users
}

export async function readFlags(db: Kysely<Database>): Promise<Map<string, CurrentFlag>> {
  const rows = await db.selectFrom('feature_flag').selectAll().orderBy('key').execute()
  return new Map(rows.map((row) => [row.key, {id: row.id, key: row.key, description: row.description, defaultEnabled: row.default_enabled === 1, rollout: row.rollout_percentage}]))
}

/** Organizations by slug (null: every organization not deleted), with their members, custom roles, overrides and keys. */
export async function readOrgs(db: Kysely<Database>, slugs: string[] | null, now: string): Promise<Map<string, CurrentOrg>> {
  const orgs = new Map<string, CurrentOrg>()
  const orgRows = slugs === null
    ? await db.selectFrom('organization').selectAll().where('deleted_at', 'is', null).orderBy('slug').execute()
    : (await Promise.all(chunksOf([...new Set(slugs)]).map((chunk) => db.selectFrom('organization').selectAll().where('slug', 'in', chunk).execute()))).flat()
  const byId = new Map<string, CurrentOrg>()
  for (const row of orgRows) {
    const org: CurrentOrg = {
      ...toOrganization(row),
      deleted: row.deleted_at !== null,
      seatLimit: row.seat_limit,
      rpmLimit: row.rpm_limit,
      row,
      members: new Map(),
      roles: new Map(),
      overrides: new Map(),
      apiKeys: new Map(),
    }
    orgs.set(org.slug, org)
    byId.set(org.id, org)
  }
  for (const ids of chunksOf([...byId.keys()])) await readOrgContents(db, ids, byId, now)
  return orgs
}

async function readOrgContents(db: Kysely<Database>, ids: string[], byId: Map<string, CurrentOrg>, now: string): Promise<void> {
  const members = await db
    .selectFrom('membership')
    .innerJoin('user_account', 'user_account.id', 'membership.user_id')
    .innerJoin('role', 'role.id', 'membership.role_id')
    .select(['membership.org_id', 'user_account.email', 'user_account.disabled_at', 'role.key'])
    .where('membership.org_id', 'in', ids)
    .orderBy('user_account.email')
    .execute()
  for (const row of members) byId.get(row.org_id)?.members.set(row.email, {role: row.key, disabled: row.disabled_at !== null})
  const roles = await db.selectFrom('role').selectAll().where('org_id', 'in', ids).orderBy('key').execute()
  const roleById = new Map<string, CurrentRole>()
  for (const row of roles) {
    const role: CurrentRole = {id: row.id, key: row.key, name: row.name, level: row.level, permissions: []}
    roleById.set(row.id, role)
    byId.get(row.org_id!)?.roles.set(row.key, role)
  }
  for (const roleIds of chunksOf([...roleById.keys()])) {
    const grants = await db.selectFrom('role_permission').selectAll().where('role_id', 'in', roleIds).orderBy('permission_key').execute()
    for (const grant of grants) roleById.get(grant.role_id)?.permissions.push(grant.permission_key)
  }
  const overrides = await db
    .selectFrom('flag_override')
    .innerJoin('feature_flag', 'feature_flag.id', 'flag_override.flag_id')
    .select(['flag_override.org_id', 'feature_flag.key', 'flag_override.enabled'])
    .where('flag_override.org_id', 'in', ids)
    .orderBy('feature_flag.key')
    .execute()
  for (const row of overrides) byId.get(row.org_id)?.overrides.set(row.key, row.enabled === 1 ? 'on' : 'off')
  const keys = await db
    .selectFrom('api_key')
    .leftJoin('role', 'role.id', 'api_key.role_id')
    .select(['api_key.id', 'api_key.org_id', 'api_key.name', 'api_key.permissions', 'api_key.expires_at', 'api_key.revoked_at', 'role.key as role_key'])
    .where('api_key.org_id', 'in', ids)
    .orderBy('api_key.name')
    .execute()
  for (const row of keys) {
    byId.get(row.org_id!)?.apiKeys.set(row.name, {
      id: row.id,
      name: row.name,
      role: row.role_key,
      permissions: row.role_key === null && row.permissions ? (JSON.parse(row.permissions) as string[]) : null,
      expiresAt: row.expires_at,
      isRevoked: row.revoked_at !== null,
      isExpired: row.expires_at !== null && row.expires_at <= now,
    })
  }
}

/** Which organizations hold these domains. */
export async function readDomainHolders(db: Kysely<Database>, domains: string[]): Promise<Map<string, string>> {
  const holders = new Map<string, string>()
  for (const chunk of chunksOf([...new Set(domains)])) {
    const rows = await db.selectFrom('organization').select(['slug', 'domain']).where('domain', 'in', chunk).execute()
    for (const row of rows) if (row.domain) holders.set(row.domain, row.slug)
  }
  return holders
}

export async function readPermissionCatalog(db: Kysely<Database>): Promise<Set<string>> {
  return new Set((await db.selectFrom('permission').select('key').execute()).map((row) => row.key))
}
