import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'

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
