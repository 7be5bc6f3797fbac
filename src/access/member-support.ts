import type {Kysely, Transaction} from 'kysely'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database, OrganizationRow, UserAccountRow} from '../db/database.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {findUserByRef} from '../identity/user-repo.js'
import type {RevocationSignal} from '../identity/revocation-signal.js'
import {revokeMembershipTokens} from '../identity/session-revocation.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import type {GrantableRole} from './authorize.js'
import {findMembershipRole, hasAnotherOwner, type Member, type MembershipRole} from './membership-repo.js'
import type {OrgAccess} from './org-access.js'
import {listPermissionsOfRoles} from './role-repo.js'
import type {TierTable} from '../tenancy/tiers.js'

/** What the member and role services are built from: they void tokens when they take rights away. */
export type AccessServiceDeps = ServiceDeps & {audit: AuditLog; accessTokenTtlSeconds: number; revocationSignal: RevocationSignal}
/** Direct adds count seats against the organization's limit (the tier table). */
export type MemberServiceDeps = AccessServiceDeps & {tiers: TierTable}

/** Voids the listed members' access tokens bound to the org, inside the caller's transaction. */
export type RevokeMembers = (orgId: string, userIds: string[], reason: string) => Promise<void>

/**
 * Runs `work` in one transaction and, once it has committed, tells this process's revocation
 * cache about the tokens it revoked, so they are refused before the call returns.
 */
export async function inTransactionWithRevocations<Result>(deps: AccessServiceDeps, work: (tx: Transaction<Database>, revoke: RevokeMembers) => Promise<Result>): Promise<Result> {
  let hasRevoked = false
  const result = await inTransaction(deps.db, (tx) =>
    work(tx, async (orgId, userIds, reason) => {
      const timing = {now: nowIso(deps), accessTokenTtlSeconds: deps.accessTokenTtlSeconds}
      for (const userId of userIds) await revokeMembershipTokens(tx, {orgId, userId}, reason, timing)
      hasRevoked ||= userIds.length > 0
    }),
  )
  if (hasRevoked) await deps.revocationSignal.notify()
  return result
}

/**
 * The user a member-changing call names. Operators are told user.not_found; a tenant is told
 * member.not_found for an unknown account too, so it cannot probe which emails have accounts.
 */
export async function requireTargetUser(tx: Kysely<Database>, access: OrgAccess, userRef: string): Promise<UserAccountRow> {
  const user = await findUserByRef(tx, userRef)
  if (user) return user
  if (access.grant.isPlatform) throw new DomainError('user.not_found', `No user "${userRef}"`)
  throw new DomainError('member.not_found', `${userRef} is not a member of "${access.org.slug}"`)
}

/**
 * Raises member.not_found. The message names the user as the caller named them (`userRef`):
 * a tenant who gives another org's user id must not learn that user's email from it.
 */
export async function requireMembership(tx: Kysely<Database>, org: OrganizationRow, user: UserAccountRow, userRef: string = user.email): Promise<MembershipRole> {
  const membership = await findMembershipRole(tx, org.id, user.id)
  if (!membership) throw new DomainError('member.not_found', `${userRef} is not a member of "${org.slug}"`)
  return membership
}

/** How an error message may name a target user: operators see the email, tenants their own reference. */
export function shownUserRef(access: OrgAccess, user: UserAccountRow, userRef: string): string {
  return access.grant.isPlatform ? user.email : userRef
}

/** Refuses, with member.last_owner, a change that would leave the organization without an active owner. */
export async function ensureAnotherOwnerRemains(tx: Kysely<Database>, org: OrganizationRow, userId: string, what: string): Promise<void> {
  if (!(await hasAnotherOwner(tx, org.id, userId))) {
    throw new DomainError('member.last_owner', `Cannot ${what}: they are the last owner of "${org.slug}"; make someone else owner first`)
  }
}

export function toMember(user: UserAccountRow, roleKey: string, joinedAt: string): Member {
  return {userId: user.id, email: user.email, name: user.name, role: roleKey, status: user.disabled_at ? 'disabled' : 'active', joinedAt}
}

/** Roles by id with their permissions, as the grant rules see them. */
export async function grantableRoles(tx: Kysely<Database>, roleIds: string[]): Promise<Map<string, GrantableRole>> {
  const rows = await tx.selectFrom('role').select(['id', 'key', 'level', 'is_builtin']).where('id', 'in', roleIds).execute()
  const permissions = await listPermissionsOfRoles(tx, roleIds)
  return new Map(rows.map((row) => [row.id, {key: row.key, level: row.level, isBuiltin: row.is_builtin === 1, permissions: permissions.get(row.id) ?? []}]))
}

/** The role `roleId` from grantableRoles' answer (it is there: the caller just read it). */
export function roleFrom(roles: Map<string, GrantableRole>, roleId: string): GrantableRole {
  const role = roles.get(roleId)
  if (!role) throw new Error(`role ${roleId} vanished inside its transaction`)
  return role
}

/** Whether moving from one role to another takes anything away: a lower rank or a lost permission. */
export function isLoss(from: GrantableRole, to: GrantableRole): boolean {
  return to.level < from.level || from.permissions.some((permission) => !to.permissions.includes(permission))
}
