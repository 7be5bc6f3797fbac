import type {Actor} from './principal.js'
import {isUniqueViolation} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {requireUser} from '../identity/user-repo.js'
import {nowIso} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {assertSeatAvailable} from '../tenancy/seat-limit.js'
import {findHeldInvitation, useUpInvitation} from '../invitations/invitation-takeover.js'
import {canGrant, canManageMemberAt} from './authorize.js'
import {createOwnershipActions} from './member-ownership.js'
import {
  addMemberSchema,
  listMembersQuerySchema,
  setMemberRoleSchema,
  userRefSchema,
  type AddMemberInput,
  type ListMembersInput,
  type RemoveMemberInput,
  type SetMemberRoleInput,
} from './member-schemas.js'
import {
  ensureAnotherOwnerRemains,
  grantableRoles,
  inTransactionWithRevocations,
  isLoss,
  requireMembership, shownUserRef,
  requireTargetUser,
  roleFrom,
  toMember,
  type MemberServiceDeps,
} from './member-support.js'
import {decodeMemberCursor, encodeMemberCursor, insertMembership, isMemberOf, listMembersOfOrg, type Member} from './membership-repo.js'
import {requireOrgPermission, requirePlatformActor, throwRefusal} from './org-access.js'
import {OWNER_ROLE_KEY, requireRoleInOrg} from './role-repo.js'

export type {Member} from './membership-repo.js'

export interface MemberPage {
  items: Member[]
  /** Pass it back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null
}

export type MemberService = ReturnType<typeof createMemberService>

const setMemberRoleInputSchema = setMemberRoleSchema.extend({user: userRefSchema})
const removeMemberInputSchema = setMemberRoleInputSchema.pick({user: true})

/**
 * Members of organizations. Every method checks, inside its own transaction, what the actor
 * holds in the org *now* (org-access.ts) and the grant rules (authorize.ts); operators pass.
 * Demotions and removals void the member's tokens bound to the org (the revocation log).
 */
export function createMemberService(deps: MemberServiceDeps) {
  const {db, audit} = deps

  return {
    /**
     * Adds a user to an organization with a role: platform principals only (tenants invite).
     * The new member takes a seat: refused with org.seat_limit when members plus pending
     * invitations already fill the org's limit (counted under the org's row lock). A live
     * invitation of the user's address to the org is used up by the add (its seat is theirs).
     * Raises platform.required, org.not_found, org.deleted, user.not_found, user.disabled,
     * role.not_found, member.exists, org.seat_limit, validation.failed.
     */
    async addMember(actor: Actor, input: AddMemberInput): Promise<Member> {
      const body = validateInput(addMemberSchema, {user: input.user, role: input.role})
      try {
        return await inTransaction(db, async (tx) => {
          await requirePlatformActor(tx, actor, 'add members directly; invite them instead')
          const {org} = await requireOrgPermission(tx, actor, input.org, 'members.invite', {lockOrg: true})
          const user = await requireUser(tx, body.user)
          const role = await requireRoleInOrg(tx, org.id, org.slug, body.role)
          if (await isMemberOf(tx, org.id, user.id)) throw new DomainError('member.exists', `${user.email} is already a member of "${org.slug}"`)
          const now = nowIso(deps)
          // A live invitation of theirs already holds a seat: the add takes it over and uses the invitation up.
          const held = await findHeldInvitation(tx, org.id, user.email, now)
          await assertSeatAvailable(tx, deps.tiers, org, now, {kind: held ? 'held' : 'new'})
          await insertMembership(tx, {id: deps.newId(), orgId: org.id, userId: user.id, roleId: role.id, now})
          await audit.append(tx, actor, {action: 'member.added', orgId: org.id, target: {type: 'user', id: user.id}, metadata: {email: user.email, role: role.key}})
          if (held) {
            await useUpInvitation(tx, held.id, user.id, now)
            await audit.append(tx, actor, {action: 'invitation.accepted', orgId: org.id, target: {type: 'invitation', id: held.id}, metadata: {email: user.email, role: role.key, user_id: user.id, created_account: false, by: 'member_add'}})
          }
          return toMember(user, role.key, now)
        })
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError('member.exists', `${input.user} is already a member of "${input.org}"`)
        throw error
      }
    },

    /**
     * Members by join time, then user id; a page of `limit` from `cursor`, or all of them when
     * no limit is given. Operators see deleted organizations too (for inspection).
     * Needs members.read. Raises org.not_found, auth.org_mismatch, permission.denied,
     * role.not_found (the role filter), validation.failed (a bad limit or cursor).
     */
    async listMembers(actor: Actor, input: ListMembersInput): Promise<MemberPage> {
      const query = validateInput(listMembersQuerySchema, {role: input.role, cursor: input.cursor, limit: input.limit})
      const after = query.cursor === undefined ? null : decodeMemberCursor(query.cursor)
      if (query.cursor !== undefined && !after) {
        throw new DomainError('validation.failed', 'Invalid cursor: pass back a next_cursor this list returned', {problems: [{field: 'cursor', message: 'not a cursor of this list'}]})
      }
      return inTransaction(db, async (tx) => {
        const {org} = await requireOrgPermission(tx, actor, input.org, 'members.read', {deleted: 'operators'})
        const role = query.role === undefined ? null : await requireRoleInOrg(tx, org.id, org.slug, query.role)
        // One more than asked tells whether another page follows.
        const rows = await listMembersOfOrg(tx, org.id, {roleId: role?.id, after, limit: query.limit === undefined ? undefined : query.limit + 1})
        if (query.limit === undefined || rows.length <= query.limit) return {items: rows, nextCursor: null}
        const items = rows.slice(0, query.limit)
        const last = items[items.length - 1] as Member
        return {items, nextCursor: encodeMemberCursor({joinedAt: last.joinedAt, userId: last.userId})}
      })
    },

    /**
     * Gives a member another role. Needs members.update_role; below owner, only members ranked
     * below the caller, and only roles the caller could grant (role.grant_forbidden,
     * permission.not_held). Demoting the last active owner is refused (member.last_owner).
     * A change that takes something away voids the member's tokens bound to the org.
     * Raises org.not_found, org.deleted, auth.org_mismatch, permission.denied, user.not_found
     * (operators), member.not_found, role.not_found, validation.failed.
     */
    async setMemberRole(actor: Actor, input: SetMemberRoleInput): Promise<Member> {
      const body = validateInput(setMemberRoleInputSchema, {user: input.user, role: input.role})
      return inTransactionWithRevocations(deps, async (tx, revoke) => {
        const access = await requireOrgPermission(tx, actor, input.org, 'members.update_role', {lockOrg: true})
        const {org} = access
        const user = await requireTargetUser(tx, access, body.user)
        // Membership before the role: an unknown role must not tell a tenant that an account exists.
        const membership = await requireMembership(tx, org, user, shownUserRef(access, user, body.user))
        const role = await requireRoleInOrg(tx, org.id, org.slug, body.role)
        const roles = await grantableRoles(tx, [membership.roleId, role.id])
        const [from, to] = [roleFrom(roles, membership.roleId), roleFrom(roles, role.id)]
        throwRefusal(canManageMemberAt(access.grant, membership.level))
        throwRefusal(canGrant(access.grant, to))
        const member = toMember(user, role.key, membership.joinedAt)
        if (membership.roleId === role.id) return member
        if (membership.roleKey === OWNER_ROLE_KEY) await ensureAnotherOwnerRemains(tx, org, user.id, `demote ${user.email}`)
        await tx.updateTable('membership').set({role_id: role.id, updated_at: nowIso(deps)}).where('id', '=', membership.membershipId).execute()
        if (isLoss(from, to)) await revoke(org.id, [user.id], 'member_role_changed')
        await audit.append(tx, actor, {action: 'member.role_updated', orgId: org.id, target: {type: 'user', id: user.id}, metadata: {email: user.email, from: membership.roleKey, to: role.key}})
        return member
      })
    },

    /**
     * Removes a member and voids their tokens bound to the org. Needs members.remove; below
     * owner, only members ranked below the caller (role.grant_forbidden). Removing the last
     * active owner is refused (member.last_owner). Raises org.not_found, org.deleted,
     * auth.org_mismatch, permission.denied, user.not_found (operators), member.not_found.
     */
    async removeMember(actor: Actor, input: RemoveMemberInput): Promise<{orgId: string; userId: string; email: string; role: string}> {
      const body = validateInput(removeMemberInputSchema, {user: input.user})
      return inTransactionWithRevocations(deps, async (tx, revoke) => {
        const access = await requireOrgPermission(tx, actor, input.org, 'members.remove', {lockOrg: true})
        const {org} = access
        const user = await requireTargetUser(tx, access, body.user)
        const membership = await requireMembership(tx, org, user, shownUserRef(access, user, body.user))
        throwRefusal(canManageMemberAt(access.grant, membership.level))
        if (membership.roleKey === OWNER_ROLE_KEY) await ensureAnotherOwnerRemains(tx, org, user.id, `remove ${user.email}`)
        await tx.deleteFrom('membership').where('id', '=', membership.membershipId).execute()
        await revoke(org.id, [user.id], 'member_removed')
        await audit.append(tx, actor, {action: 'member.removed', orgId: org.id, target: {type: 'user', id: user.id}, metadata: {email: user.email, role: membership.roleKey}})
        return {orgId: org.id, userId: user.id, email: user.email, role: membership.roleKey}
      })
    },

    ...createOwnershipActions(deps),
  }
}
