import type {Actor} from './principal.js'
import {DomainError} from '../errors/domain-error.js'
import {requireUser} from '../identity/user-repo.js'
import {nowIso} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {isOwnerGrant} from './authorize.js'
import {transferOwnershipSchema, type LeaveOrgInput, type TransferOwnershipInput} from './member-schemas.js'
import {inTransactionWithRevocations, requireMembership, requireTargetUser, shownUserRef, toMember, type MemberServiceDeps} from './member-support.js'
import {hasAnotherOwner, listOwnerIds, type Member} from './membership-repo.js'
import {requireOrgPermission, resolveOrgAccess} from './org-access.js'
import {OWNER_ROLE_KEY, requireRoleInOrg} from './role-repo.js'

/** The role a previous owner keeps after handing the organization over. */
const PREVIOUS_OWNER_ROLE_KEY = 'admin'

/** Leaving an organization and handing it over: the member service's changes of who runs it. */
export function createOwnershipActions(deps: MemberServiceDeps) {
  const {audit} = deps

  return {
    /**
     * The calling user leaves the organization; their tokens bound to it are voided. Needs no
     * permission and no token bound to it. The last active owner cannot leave
     * (member.last_owner). Raises org.not_found, permission.denied (not a user: operators
     * remove members instead), member.not_found (a platform admin who is not a member).
     */
    async leaveOrg(actor: Actor, input: LeaveOrgInput): Promise<{orgId: string; userId: string}> {
      return inTransactionWithRevocations(deps, async (tx, revoke) => {
        const {org} = await resolveOrgAccess(tx, actor, input.org, {ignoreBinding: true, lockOrg: true})
        const {principal} = actor
        if (principal.kind !== 'user') throw new DomainError('permission.denied', 'Only a member can leave an organization; remove members with `member remove`')
        const user = await requireUser(tx, principal.userId, {allowDisabled: true})
        const membership = await requireMembership(tx, org, user)
        if (membership.roleKey === OWNER_ROLE_KEY && !(await hasAnotherOwner(tx, org.id, user.id))) {
          throw new DomainError('member.last_owner', `You are the last owner of "${org.slug}": transfer ownership before leaving`)
        }
        await tx.deleteFrom('membership').where('id', '=', membership.membershipId).execute()
        await revoke(org.id, [user.id], 'member_left')
        await audit.append(tx, actor, {action: 'member.left', orgId: org.id, target: {type: 'user', id: user.id}, metadata: {email: user.email, role: membership.roleKey}})
        return {orgId: org.id, userId: user.id}
      })
    },

    /**
     * Makes a member (active, not disabled) the owner. A user owner hands over their own
     * ownership and becomes admin; a platform principal makes every other owner admin. The
     * demoted owners' tokens bound to the org are voided. Raises org.not_found, org.deleted,
     * auth.org_mismatch, permission.denied, role.grant_forbidden (not an owner; an org's API
     * key), user.not_found (operators), user.disabled, member.not_found, validation.failed.
     */
    async transferOwnership(actor: Actor, input: TransferOwnershipInput): Promise<Member> {
      const body = validateInput(transferOwnershipSchema, {user: input.user})
      return inTransactionWithRevocations(deps, async (tx, revoke) => {
        const access = await requireOrgPermission(tx, actor, input.org, 'members.update_role', {lockOrg: true})
        const {org, grant} = access
        const {principal} = actor
        if (!isOwnerGrant(grant) || (!grant.isPlatform && principal.kind !== 'user')) {
          throw new DomainError('role.grant_forbidden', 'Only an owner may transfer the ownership of an organization', {your_level: grant.level})
        }
        const target = await requireTargetUser(tx, access, body.user)
        const membership = await requireMembership(tx, org, target, shownUserRef(access, target, body.user))
        if (target.disabled_at) throw new DomainError('user.disabled', `User ${target.email} is disabled and cannot own "${org.slug}"`)
        const owner = await requireRoleInOrg(tx, org.id, org.slug, OWNER_ROLE_KEY)
        const demotedTo = await requireRoleInOrg(tx, org.id, org.slug, PREVIOUS_OWNER_ROLE_KEY)
        const previousOwners = principal.kind === 'user' && !grant.isPlatform ? [principal.userId] : await listOwnerIds(tx, org.id)
        const demoted = previousOwners.filter((userId) => userId !== target.id)
        const newOwner = toMember(target, owner.key, membership.joinedAt)
        if (membership.roleId === owner.id && demoted.length === 0) return newOwner
        const now = nowIso(deps)
        await tx.updateTable('membership').set({role_id: owner.id, updated_at: now}).where('id', '=', membership.membershipId).execute()
        let demotedEmails: string[] = []
        if (demoted.length > 0) {
          await tx.updateTable('membership').set({role_id: demotedTo.id, updated_at: now}).where('org_id', '=', org.id).where('user_id', 'in', demoted).execute()
          const rows = await tx.selectFrom('user_account').select('email').where('id', 'in', demoted).orderBy('email').execute()
          demotedEmails = rows.map((row) => row.email)
        }
        await revoke(org.id, demoted, 'ownership_transferred')
        await audit.append(tx, actor, {
          action: 'org.ownership_transferred',
          orgId: org.id,
          target: {type: 'user', id: target.id},
          metadata: {email: target.email, from: membership.roleKey, demoted: demotedEmails, demoted_to: demotedTo.key},
        })
        return newOwner
      })
    },
  }
}
