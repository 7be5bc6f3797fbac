import type {Kysely} from 'kysely'
import type {Database, OrganizationRow} from '../db/database.js'
import {lockOrganization} from '../db/dialect-helpers.js'
import {DomainError} from '../errors/domain-error.js'
import {findOrgById, findOrgByRef} from '../tenancy/org-repo.js'
import {can, OWNER_LEVEL, type Grant, type Refusal} from './authorize.js'
import type {PermissionKey} from './permission-catalog.js'
import type {Actor, Principal} from './principal.js'
import {findApiKeyGrantRow, findMemberGrantRow, type GrantRow} from './grant-repo.js'

/** A principal's standing in one organization, read inside the service's transaction. */
export interface OrgAccess {
  org: OrganizationRow
  grant: Grant
  principal: Principal
}

export interface OrgAccessOptions {
  /**
   * Soft-deleted organizations answer org.not_found to tenants (as if they did not exist).
   * 'owners' lets owners who are users through (restore; not owner-role API keys); operators
   * always see them, and keep their `org.deleted` refusal unless 'operators' or 'owners' is given.
   */
  deleted?: 'refuse' | 'owners' | 'operators'
  /** Let a user whose token is bound to another org through (restore, leave-by-any-token). */
  ignoreBinding?: boolean
  /**
   * Lock the org's row (Postgres) before reading the grant, for changes to who holds what: a
   * caller demoted by a concurrent change is then judged by the role it left them, not the one
   * it took away.
   */
  lockOrg?: boolean
}

const PLATFORM_GRANT = (orgId: string): Grant => ({orgId, isPlatform: true, roleKey: null, level: Number.POSITIVE_INFINITY, permissions: new Set()})

/** The answer for "no such org" and "not yours" alike, so tenants cannot probe each other's slugs. */
export function orgNotFound(ref: string): DomainError {
  return new DomainError('org.not_found', `No organization "${ref}"`)
}

/**
 * Resolves what the actor holds in the organization `orgRef` (slug or id) *now*, inside `tx`.
 * A tenant (user or org API key) that is not a member gets org.not_found, the same as for an
 * org that does not exist; a member whose token is bound to another org gets
 * auth.org_mismatch. Operators, platform keys and platform admins hold every permission.
 * Raises org.not_found, org.deleted (operators), auth.org_mismatch, auth.invalid_token (a
 * disabled user or a revoked, expired key).
 */
export async function resolveOrgAccess(tx: Kysely<Database>, actor: Actor, orgRef: string, options: OrgAccessOptions = {}): Promise<OrgAccess> {
  const {principal} = actor
  const org = await readOrg(tx, orgRef, options.lockOrg === true)
  const deleted = options.deleted ?? 'refuse'
  const row = await loadGrantRow(tx, principal, org.id)
  if (row === 'platform') {
    if (org.deleted_at && deleted === 'refuse') throw orgDeleted(org)
    return {org, grant: PLATFORM_GRANT(org.id), principal}
  }
  if (!row) throw orgNotFound(orgRef)
  // Only owners who are people may bring a deleted org back: an owner-role API key cannot
  // (it would outlive the deletion that was meant to stop it), and sees org.not_found.
  if (org.deleted_at && !(deleted === 'owners' && principal.kind === 'user' && row.level >= OWNER_LEVEL)) throw orgNotFound(orgRef)
  if (principal.kind === 'user' && !options.ignoreBinding && principal.boundOrgId !== org.id) {
    throw new DomainError('auth.org_mismatch', principal.boundOrgId ? 'Your token is bound to another organization; switch to this one first' : 'Your token is not bound to an organization; log in or switch to this one first', {org: org.slug})
  }
  return {org, grant: {orgId: org.id, isPlatform: false, roleKey: row.roleKey, level: row.level, permissions: new Set(row.permissions)}, principal}
}

/** The org by id or slug; with `lock`, locked and read again, so a change committed while we waited is seen. */
async function readOrg(tx: Kysely<Database>, orgRef: string, lock: boolean): Promise<OrganizationRow> {
  const org = await findOrgByRef(tx, orgRef)
  if (!org) throw orgNotFound(orgRef)
  if (!lock) return org
  await lockOrganization(tx, org.id)
  // Read again by its id alone (one index, not the id-or-slug lookup): the same row, now locked.
  const current = await findOrgById(tx, org.id)
  if (!current) throw orgNotFound(orgRef)
  return current
}

/** resolveOrgAccess, then the permission: raises permission.denied when the grant lacks it. */
export async function requireOrgPermission(tx: Kysely<Database>, actor: Actor, orgRef: string, permission: PermissionKey, options: OrgAccessOptions = {}): Promise<OrgAccess> {
  const access = await resolveOrgAccess(tx, actor, orgRef, options)
  requirePermission(access, permission)
  return access
}

/** Raises permission.denied unless the access allows `permission`. */
export function requirePermission(access: OrgAccess, permission: PermissionKey): void {
  if (!can(access.grant, permission, access.org.id)) {
    throw new DomainError('permission.denied', `You need the permission ${permission} in "${access.org.slug}"`, {permission})
  }
}

/** Throws a refusal of the grant rules (authorize.ts) as its DomainError. */
export function throwRefusal(refusal: Refusal | null): void {
  if (refusal) throw new DomainError(refusal.code, refusal.message, refusal.details)
}

/** Whether the actor is a platform principal (operator, system, platform key, platform admin), read now. */
export async function isPlatformActor(tx: Kysely<Database>, actor: Actor): Promise<boolean> {
  return (await loadGrantRow(tx, actor.principal, null)) === 'platform'
}

/** Raises platform.required unless the actor is a platform principal. */
export async function requirePlatformActor(tx: Kysely<Database>, actor: Actor, what: string): Promise<void> {
  if (!(await isPlatformActor(tx, actor))) throw new DomainError('platform.required', `Only an operator or a platform key may ${what}`)
}

/**
 * 'platform' for principals that pass every check, else the principal's role and permissions
 * in the org (null when it holds none there). `orgId` null: only the platform question.
 */
async function loadGrantRow(tx: Kysely<Database>, principal: Principal, orgId: string | null): Promise<GrantRow | 'platform' | null> {
  switch (principal.kind) {
    case 'operator':
    case 'system':
      return 'platform'
    case 'user': {
      const row = await findMemberGrantRow(tx, principal.userId, orgId)
      if (!row.user || row.user.disabledAt) throw new DomainError('auth.invalid_token', 'The account is not active', {reason: 'user_revoked'})
      if (row.user.isPlatformAdmin) return 'platform'
      return row.grant
    }
    case 'api_key': {
      const row = await findApiKeyGrantRow(tx, principal.keyId)
      if (!row) throw new DomainError('auth.invalid_token', 'The API key is revoked or expired', {reason: 'token_revoked'})
      if (row.isPlatform) return 'platform'
      return orgId !== null && row.orgId === orgId ? row.grant : null
    }
  }
}

function orgDeleted(org: OrganizationRow): DomainError {
  return new DomainError('org.deleted', `Organization "${org.slug}" is deleted; restore it with \`saas-ctl org restore ${org.slug}\` first`)
}
