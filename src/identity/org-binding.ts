import type {Kysely} from 'kysely'
import {findMembershipRole} from '../access/membership-repo.js'
import {orgNotFound} from '../access/org-access.js'
import type {Database, OrganizationRow} from '../db/database.js'
import {findOrgByRef, toOrganization, type Organization} from '../tenancy/org-repo.js'
import {resolveTenant, type TenantRequest, type TenantResolutionOptions} from '../tenancy/tenant-resolution.js'

/** The organization a session's tokens are bound to, with the caller's role there now. */
export interface OrgBinding {
  org: Organization
  role: string
}

/**
 * The binding of a user to an organization they are a member of now. An organization that
 * does not exist, is soft-deleted, or of which the user is not a member is one answer,
 * org.not_found, so slugs cannot be probed through login or switch-org.
 */
export async function requireMemberBinding(tx: Kysely<Database>, userId: string, org: OrganizationRow | null, ref: string): Promise<OrgBinding> {
  if (!org || org.deleted_at) throw orgNotFound(ref)
  const membership = await findMembershipRole(tx, org.id, userId)
  if (!membership) throw orgNotFound(ref)
  return {org: toOrganization(org), role: membership.roleKey}
}

/** requireMemberBinding for an organization named by id or slug. Raises org.not_found. */
export async function requireMemberBindingByRef(tx: Kysely<Database>, userId: string, orgRef: string): Promise<OrgBinding> {
  return requireMemberBinding(tx, userId, await findOrgByRef(tx, orgRef), orgRef)
}

/**
 * The binding the request asks for by its body, tenant headers or host (see
 * tenant-resolution.ts); null when it names no organization. Raises tenant.ambiguous,
 * org.not_found.
 */
export async function resolveRequestedBinding(tx: Kysely<Database>, userId: string, request: TenantRequest, options: TenantResolutionOptions): Promise<OrgBinding | null> {
  const tenant = await resolveTenant(tx, request, options)
  if (!tenant) return null
  return requireMemberBinding(tx, userId, tenant.org, tenant.ref)
}
