import type {Kysely} from 'kysely'
import type {Actor} from './principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database, OrganizationRow, UserAccountRow} from '../db/database.js'
import {isUniqueViolation, lockOrganization} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {requireUser} from '../identity/user-repo.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {requireOrg} from '../tenancy/org-repo.js'
import {findMembershipRole, hasAnotherOwner} from './membership-repo.js'
import {OWNER_ROLE_KEY, requireRoleInOrg} from './role-repo.js'

export interface Member {
  userId: string
  email: string
  name: string | null
  role: string
  status: 'active' | 'disabled'
  joinedAt: string
}

export type MemberService = ReturnType<typeof createMemberService>

export function createMemberService(deps: ServiceDeps & {audit: AuditLog}) {
  const {db, audit} = deps

  /** Raises member.not_found. */
  async function requireMembership(tx: Kysely<Database>, org: OrganizationRow, user: UserAccountRow) {
    const membership = await findMembershipRole(tx, org.id, user.id)
    if (!membership) throw new DomainError('member.not_found', `${user.email} is not a member of "${org.slug}"`)
    return membership
  }

  /** Refuses, with member.last_owner, a change that would leave the organization without an owner. */
  async function ensureAnotherOwnerRemains(tx: Kysely<Database>, org: OrganizationRow, userId: string, what: string): Promise<void> {
    if (!(await hasAnotherOwner(tx, org.id, userId))) throw new DomainError('member.last_owner', `Cannot ${what}: they are the last owner of "${org.slug}"; make someone else owner first`)
  }

  return {
    /** Adds a user to an organization with a role. Raises org.not_found, org.deleted, user.not_found, user.disabled, role.not_found, member.exists. */
    async addMember(actor: Actor, orgRef: string, userRef: string, roleKey: string): Promise<Member> {
      try {
        return await inTransaction(db, async (tx) => {
          const org = await requireOrg(tx, orgRef)
          const user = await requireUser(tx, userRef)
          const role = await requireRoleInOrg(tx, org.id, org.slug, roleKey)
          const existing = await tx.selectFrom('membership').select('id').where('org_id', '=', org.id).where('user_id', '=', user.id).executeTakeFirst()
          if (existing) throw new DomainError('member.exists', `${user.email} is already a member of "${org.slug}"`)
          const now = nowIso(deps)
          await tx.insertInto('membership').values({id: deps.newId(), org_id: org.id, user_id: user.id, role_id: role.id, created_at: now, updated_at: now}).execute()
          await audit.append(tx, actor, {action: 'member.added', orgId: org.id, target: {type: 'user', id: user.id}, metadata: {email: user.email, role: role.key}})
          return {userId: user.id, email: user.email, name: user.name, role: role.key, status: 'active' as const, joinedAt: now}
        })
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError('member.exists', `${userRef} is already a member of "${orgRef}"`)
        throw error
      }
    },

    /** Members of an organization (deleted organizations too, for inspection). Raises org.not_found. */
    async listMembers(orgRef: string): Promise<Member[]> {
      const org = await requireOrg(db, orgRef, {allowDeleted: true})
      const rows = await db
        .selectFrom('membership')
        .innerJoin('user_account', 'user_account.id', 'membership.user_id')
        .innerJoin('role', 'role.id', 'membership.role_id')
        .select(['user_account.id as userId', 'user_account.email', 'user_account.name', 'user_account.disabled_at', 'role.key as role', 'membership.created_at as joinedAt'])
        .where('membership.org_id', '=', org.id)
        .orderBy('membership.created_at')
        .orderBy('user_account.email')
        .execute()
      return rows.map(({disabled_at, ...row}) => ({...row, status: disabled_at ? 'disabled' : 'active'}))
    },

    /**
     * Gives a member another role. Demoting the last owner is refused (member.last_owner).
     * Raises org.not_found, org.deleted, user.not_found, member.not_found, role.not_found.
     */
    async setMemberRole(actor: Actor, orgRef: string, userRef: string, roleKey: string): Promise<Member> {
      return inTransaction(db, async (tx) => {
        const org = await requireOrg(tx, orgRef)
        await lockOrganization(tx, org.id)
        const user = await requireUser(tx, userRef, {allowDisabled: true})
        const role = await requireRoleInOrg(tx, org.id, org.slug, roleKey)
        const membership = await requireMembership(tx, org, user)
        const member = {userId: user.id, email: user.email, name: user.name, role: role.key, status: user.disabled_at ? ('disabled' as const) : ('active' as const), joinedAt: membership.joinedAt}
        if (membership.roleId === role.id) return member
        if (membership.roleKey === OWNER_ROLE_KEY) await ensureAnotherOwnerRemains(tx, org, user.id, `demote ${user.email}`)
        await tx.updateTable('membership').set({role_id: role.id, updated_at: nowIso(deps)}).where('id', '=', membership.membershipId).execute()
        await audit.append(tx, actor, {action: 'member.role_updated', orgId: org.id, target: {type: 'user', id: user.id}, metadata: {email: user.email, from: membership.roleKey, to: role.key}})
        return member
      })
    },

    /** Removes a member. Removing the last owner is refused (member.last_owner). Raises org.not_found, org.deleted, user.not_found, member.not_found. */
    async removeMember(actor: Actor, orgRef: string, userRef: string): Promise<{orgId: string; userId: string; email: string; role: string}> {
      return inTransaction(db, async (tx) => {
        const org = await requireOrg(tx, orgRef)
        await lockOrganization(tx, org.id)
        const user = await requireUser(tx, userRef, {allowDisabled: true})
        const membership = await requireMembership(tx, org, user)
        if (membership.roleKey === OWNER_ROLE_KEY) await ensureAnotherOwnerRemains(tx, org, user.id, `remove ${user.email}`)
        await tx.deleteFrom('membership').where('id', '=', membership.membershipId).execute()
        await audit.append(tx, actor, {action: 'member.removed', orgId: org.id, target: {type: 'user', id: user.id}, metadata: {email: user.email, role: membership.roleKey}})
        return {orgId: org.id, userId: user.id, email: user.email, role: membership.roleKey}
      })
    },
  }
}
