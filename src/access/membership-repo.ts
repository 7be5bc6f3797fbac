import type {Kysely} from 'kysely'
import {isStorableTime} from '../shared/storable-time.js'
import type {Database} from '../db/database.js'
import {sharedQuery} from '../db/prepared-query.js'
import {OWNER_ROLE_KEY} from './role-repo.js'

// The existence check and insert of every member add, compiled once (sharedQuery): an apply adds
// thousands of members, and Kysely rebuilding them each time cost more than running them.
const selectMembershipId = sharedQuery(2, (db, orgId: string, userId: string) => (db as Kysely<Database>).selectFrom('membership').select('id').where('org_id', '=', orgId).where('user_id', '=', userId))
const insertMembershipQuery = sharedQuery(6, (db, id: string, orgId: string, userId: string, roleId: string, createdAt: string, updatedAt: string) =>
  (db as Kysely<Database>).insertInto('membership').values({id, org_id: orgId, user_id: userId, role_id: roleId, created_at: createdAt, updated_at: updatedAt}),
)

/** Whether the user is a member of the organization. */
export async function isMemberOf(db: Kysely<Database>, orgId: string, userId: string): Promise<boolean> {
  return (await selectMembershipId(db, orgId, userId)).rows.length > 0
}

/** Writes a membership (the caller checked the rules and audits it). */
export async function insertMembership(db: Kysely<Database>, row: {id: string; orgId: string; userId: string; roleId: string; now: string}): Promise<void> {
  await insertMembershipQuery(db, row.id, row.orgId, row.userId, row.roleId, row.now, row.now)
}

export interface UserMembership {
  orgId: string
  orgSlug: string
  orgName: string
  role: string
}

/** A user's memberships with the org and role key, by org slug; soft-deleted orgs only when asked. */
export async function listMembershipsOfUser(db: Kysely<Database>, userId: string, options: {includeDeletedOrgs?: boolean} = {}): Promise<UserMembership[]> {
  return membershipsOfUserQuery(db, userId, options).execute()
}

/** The query behind listMembershipsOfUser, for callers that prepare it once. */
export function membershipsOfUserQuery(db: Kysely<Database>, userId: string, options: {includeDeletedOrgs?: boolean} = {}) {
  let query = db
    .selectFrom('membership')
    .innerJoin('organization', 'organization.id', 'membership.org_id')
    .innerJoin('role', 'role.id', 'membership.role_id')
    .select(['organization.id as orgId', 'organization.slug as orgSlug', 'organization.name as orgName', 'role.key as role'])
    .where('membership.user_id', '=', userId)
  if (!options.includeDeletedOrgs) query = query.where('organization.deleted_at', 'is', null)
  return query.orderBy('organization.slug')
}

export interface MembershipRole {
  membershipId: string
  roleId: string
  roleKey: string
  /** The role's rank (owner 4 … viewer 1): what the grant rules compare. */
  level: number
  joinedAt: string
}

/** The role a user holds in an organization, or null when they are not a member. */
export async function findMembershipRole(db: Kysely<Database>, orgId: string, userId: string): Promise<MembershipRole | null> {
  const row = await db
    .selectFrom('membership')
    .innerJoin('role', 'role.id', 'membership.role_id')
    .select(['membership.id as membershipId', 'membership.role_id as roleId', 'role.key as roleKey', 'role.level', 'membership.created_at as joinedAt'])
    .where('membership.org_id', '=', orgId)
    .where('membership.user_id', '=', userId)
    .executeTakeFirst()
  return row ?? null
}

/**
 * Whether the organization has an owner other than `userId` (the last-owner rule). A disabled
 * owner does not count: they cannot act, so the org would be left with nobody to run it.
 * Callers hold the org's row lock (lockOrganization), so two concurrent demotions cannot both
 * see "another owner remains".
 */
export async function hasAnotherOwner(db: Kysely<Database>, orgId: string, userId: string): Promise<boolean> {
  const other = await ownersQuery(db, orgId).select('membership.id').where('membership.user_id', '!=', userId).where('user_account.disabled_at', 'is', null).executeTakeFirst()
  return other !== undefined
}

/** The ids of every owner of the organization, disabled ones included. */
export async function listOwnerIds(db: Kysely<Database>, orgId: string): Promise<string[]> {
  const rows = await ownersQuery(db, orgId).select('membership.user_id').orderBy('membership.user_id').execute()
  return rows.map((row) => row.user_id)
}

function ownersQuery(db: Kysely<Database>, orgId: string) {
  return db
    .selectFrom('membership')
    .innerJoin('role', 'role.id', 'membership.role_id')
    .innerJoin('user_account', 'user_account.id', 'membership.user_id')
    .where('membership.org_id', '=', orgId)
    .where('role.key', '=', OWNER_ROLE_KEY)
    .where('role.is_builtin', '=', 1)
}

/** A member of an organization, as the member service returns it. */
export interface Member {
  userId: string
  email: string
  name: string | null
  role: string
  status: 'active' | 'disabled'
  joinedAt: string
}

/** A position in the member list: the last member seen, by join time and then user id. */
export interface MemberPosition {
  joinedAt: string
  userId: string
}

/**
 * An organization's members ordered by join time, then user id (stable under concurrent joins,
 * so a cursor never skips or repeats anyone). `after` continues past a position; `limit`
 * undefined reads them all.
 */
export async function listMembersOfOrg(db: Kysely<Database>, orgId: string, options: {roleId?: string; after?: MemberPosition | null; limit?: number}): Promise<Member[]> {
  let query = db
    .selectFrom('membership')
    .innerJoin('user_account', 'user_account.id', 'membership.user_id')
    .innerJoin('role', 'role.id', 'membership.role_id')
    .select(['user_account.id as userId', 'user_account.email', 'user_account.name', 'user_account.disabled_at', 'role.key as role', 'membership.created_at as joinedAt'])
    .where('membership.org_id', '=', orgId)
  if (options.roleId !== undefined) query = query.where('membership.role_id', '=', options.roleId)
  const after = options.after
  if (after) {
    query = query.where((eb) =>
      eb.or([eb('membership.created_at', '>', after.joinedAt), eb.and([eb('membership.created_at', '=', after.joinedAt), eb('membership.user_id', '>', after.userId)])]),
    )
  }
  query = query.orderBy('membership.created_at').orderBy('membership.user_id')
  if (options.limit !== undefined) query = query.limit(options.limit)
  const rows = await query.execute()
  return rows.map(({disabled_at, ...row}) => ({...row, status: disabled_at ? 'disabled' : 'active'}))
}

/** The opaque cursor of a position (base64url JSON), and back; null when it is not one of ours. */
export function encodeMemberCursor(position: MemberPosition): string {
  return Buffer.from(JSON.stringify([position.joinedAt, position.userId])).toString('base64url')
}

export function decodeMemberCursor(cursor: string): MemberPosition | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (!Array.isArray(value) || value.length !== 2 || !value.every((part) => typeof part === 'string')) return null
    const [joinedAt, userId] = value as [string, string]
    // Canonical ISO, as stored: compared as text on SQLite, and never an odd literal for Postgres.
    const time = new Date(joinedAt)
    // An id is short and plain (Postgres refuses NUL in text); the time within what both databases store.
    if (!isStorableTime(time) || userId.length > 100 || userId.includes('\u0000')) return null
    return {joinedAt: time.toISOString(), userId}
  } catch {
    return null
  }
}
