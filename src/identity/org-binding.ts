import type {Kysely} from 'kysely'
import {findMembershipRole} from '../access/membership-repo.js'
import {orgNotFound} from '../access/org-access.js'
import type {Database, OrganizationRow} from '../db/database.js'
import {shareLockMembership} from '../db/dialect-helpers.js'
import {findOrgByRef, toOrganization, type Organization} from '../tenancy/org-repo.js'
import {ambiguousTenant, resolveTenantSources, type TenantRequest, type TenantResolutionOptions} from '../tenancy/tenant-resolution.js'

/** The organization a session's tokens are bound to, with the caller's role there now. */
export interface OrgBinding {
  org: Organization
  role: string
}

// Matches no membership: the read still runs for a missing or deleted organization, so the
// statements a login runs do not depend on whether the organization exists.
const NO_ORG_ID = ''

/**
 * The binding of a user to an organization they are a member of now. An organization that
 * does not exist, is soft-deleted, or of which the user is not a member is one answer,
 * org.not_found, so slugs cannot be probed through login or switch-org. The org and membership
 * rows are share-locked until the transaction ends (Postgres), so a deletion, removal or demotion
 * committing meanwhile orders strictly before or after this read: callers sign the token with a time
 * taken after it (see session-issuance.ts).
 */
export async function requireMemberBinding(tx: Kysely<Database>, userId: string, org: OrganizationRow | null, ref: string): Promise<OrgBinding> {
  const orgId = org && !org.deleted_at ? org.id : NO_ORG_ID
  await shareLockMembership(tx, orgId, userId)
  // Read again under the lock: a deletion may have committed since `org` was read.
  const current = await findOrgByRef(tx, orgId)
  const membership = await findMembershipRole(tx, orgId, userId)
  if (!current || current.deleted_at || !membership) throw orgNotFound(ref)
  return {org: toOrganization(current), role: membership.roleKey}
}

/** requireMemberBinding for an organization named by id or slug. Raises org.not_found. */
export async function requireMemberBindingByRef(tx: Kysely<Database>, userId: string, orgRef: string): Promise<OrgBinding> {
  return requireMemberBinding(tx, userId, await findOrgByRef(tx, orgRef), orgRef)
}

/**
 * The binding the request asks for by its body, tenant headers or host (see
 * tenant-resolution.ts); null when it names no organization. Every source must name an
 * organization the user belongs to, else org.not_found (the first such source in precedence
 * order): an unknown name and a foreign organization answer alike, also next to a member
 * organization. Only when all are the user's and they differ is it tenant.ambiguous, which then
 * tells the caller nothing they do not know. Raises org.not_found, tenant.ambiguous.
 */
export async function resolveRequestedBinding(tx: Kysely<Database>, userId: string, request: TenantRequest, options: TenantResolutionOptions): Promise<OrgBinding | null> {
  const sources = await resolveTenantSources(tx, request, options)
  const bindings: OrgBinding[] = []
  for (const source of sources) bindings.push(await requireMemberBinding(tx, userId, source.org, source.ref))
  const [first] = bindings
  if (!first) return null
  if (bindings.some((binding) => binding.org.id !== first.org.id)) throw ambiguousTenant(sources)
  return first
}
