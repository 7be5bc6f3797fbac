import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {OWNER_ROLE_KEY} from './role-repo.js'

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

/** The role key a user holds in an organization, or null when they are not a member. */
export async function findMembershipRole(db: Kysely<Database>, orgId: string, userId: string): Promise<{membershipId: string; roleId: string; roleKey: string; joinedAt: string} | null> {
  const row = await db
    .selectFrom('membership')
    .innerJoin('role', 'role.id', 'membership.role_id')
    .select(['membership.id as membershipId', 'membership.role_id as roleId', 'role.key as roleKey', 'membership.created_at as joinedAt'])
    .where('membership.org_id', '=', orgId)
    .where('membership.user_id', '=', userId)
    .executeTakeFirst()
  return row ?? null
}

/** Whether the organization has an owner other than `userId` (the last-owner rule). */
export async function hasAnotherOwner(db: Kysely<Database>, orgId: string, userId: string): Promise<boolean> {
  const other = await db
    .selectFrom('membership')
    .innerJoin('role', 'role.id', 'membership.role_id')
    .select('membership.id')
    .where('membership.org_id', '=', orgId)
    .where('membership.user_id', '!=', userId)
    .where('role.key', '=', OWNER_ROLE_KEY)
    .where('role.is_builtin', '=', 1)
    .executeTakeFirst()
  return other !== undefined
}
