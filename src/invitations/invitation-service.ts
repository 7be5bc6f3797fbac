import type {Kysely, Transaction} from 'kysely'
import type {Actor} from '../access/principal.js'
import {canGrant, type Grant} from '../access/authorize.js'
import {grantableRoles, roleFrom} from '../access/member-support.js'
import {isPlatformActor, requireOrgPermission, throwRefusal, type OrgAccess} from '../access/org-access.js'
import {requireRoleInOrg} from '../access/role-repo.js'
import type {AuditLog} from '../audit/audit-log.js'
import {auditActorOf} from '../audit/actor.js'
import type {Database, InvitationRow, OrganizationRow} from '../db/database.js'
import {isUniqueViolation} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {findUserByEmail} from '../identity/user-repo.js'
import type {MailOutbox} from '../mail/mail-outbox.js'
import {generateOpaqueToken, hashToken} from '../security/secure-token.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {assertSeatAvailable} from '../tenancy/seat-limit.js'
import type {TierTable} from '../tenancy/tiers.js'
import {assertInvitationMailBudget, assertResendCooldown} from './invitation-mail-budget.js'
import {acceptInvitationUrl, invitationMail} from './invitation-mails.js'
import {findInvitation, findPendingInvitationOf, isLive, listLiveInvitations, toInvitation, type Invitation, type InvitationWithRole} from './invitation-repo.js'
import {createInvitationSchema, invitationIdSchema, type CreateInvitationInput, type InvitationRefInput} from './invitation-schemas.js'

export interface InvitationDeps extends ServiceDeps {
  audit: AuditLog
  mail: Pick<MailOutbox, 'enqueue'>
  tiers: TierTable
  /** Accept links start with it. */
  publicUrl: string
  invitationTtlSeconds: number
  /** Setting invitation_mails_per_day: invitation mails per org per 24 hours for tenant principals (0: no cap). */
  invitationMailsPerDay: number
}

/**
 * What inviting and resending answer. The accept link (with its raw token) is shown only to
 * platform principals (operators, platform keys, platform admins), who may create accounts
 * anyway; a tenant's invitee gets it by mail only, so accepting it proves the mailbox (the
 * acceptance marks a new account's address verified).
 */
export interface IssuedInvitation {
  invitation: Invitation
  acceptUrl: string | null
  token: string | null
}

/** Managing an organization's invitations: invite, list, resend, revoke (all need members.invite). */
export function createInvitationManagement(deps: InvitationDeps) {
  const {db, audit} = deps
  const ttlMs = deps.invitationTtlSeconds * 1000

  /** The invitation `ref.id` in the org it names (or, without one, its own org), with the actor's access there. */
  async function requireManagedInvitation(tx: Transaction<Database>, actor: Actor, ref: InvitationRefInput): Promise<{access: OrgAccess; row: InvitationWithRole}> {
    const id = validateInput(invitationIdSchema, ref.id)
    const notFound = () => new DomainError('invitation.not_found', `No invitation "${id}"${ref.org === undefined ? '' : ` in "${ref.org}"`}`)
    let orgRef = ref.org
    if (orgRef === undefined) {
      const found = await findInvitation(tx, id)
      if (!found) throw notFound()
      orgRef = found.org_id
    }
    let access: OrgAccess
    try {
      access = await requireOrgPermission(tx, actor, orgRef, 'members.invite', {lockOrg: true})
    } catch (error) {
      // Named by id alone, an invitation of an org the caller cannot see is simply not found.
      if (ref.org === undefined && (error as DomainError).code === 'org.not_found') throw notFound()
      throw error
    }
    const row = await findInvitation(tx, id, access.org.id)
    if (!row) throw notFound()
    return {access, row}
  }

  /** The invitation's role as the grant rules see it; a custom role deleted since is role.not_found. */
  async function requireGrantableRole(tx: Kysely<Database>, grant: Grant, roleId: string, org: OrganizationRow) {
    const roles = await grantableRoles(tx, [roleId])
    if (!roles.has(roleId)) throw new DomainError('role.not_found', `The invitation's role no longer exists in "${org.slug}"; invite again with another role`)
    const role = roleFrom(roles, roleId)
    throwRefusal(canGrant(grant, role))
    return role
  }

  async function mailLink(tx: Kysely<Database>, org: OrganizationRow, row: Pick<InvitationRow, 'email' | 'invited_by_name'>, roleKey: string, token: string): Promise<string> {
    const acceptUrl = acceptInvitationUrl(deps.publicUrl, token)
    const invitee = await findUserByEmail(tx, row.email)
    await deps.mail.enqueue(tx, invitationMail({to: row.email, userId: invitee?.id ?? null, orgName: org.name, roleKey, inviterName: row.invited_by_name, acceptUrl, ttlSeconds: deps.invitationTtlSeconds}))
    return acceptUrl
  }

  /**
   * The limits on invitation mails, for tenant principals (members' tokens, org API keys): the
   * resend cooldown of the invitation (`row`, for a resend) and the org's daily cap, counted
   * under the org row lock the caller holds. Operators and platform principals are trusted (they
   * may create accounts and are shown the links anyway; an onboarding may invite hundreds at
   * once; they set the setting) and held to neither; their mails still count toward the cap.
   */
  async function assertMailAllowed(tx: Kysely<Database>, actor: Actor, org: OrganizationRow, now: string, row?: Pick<InvitationRow, 'id' | 'sent_at'>): Promise<void> {
    if (await isPlatformActor(tx, actor)) return
    if (row) assertResendCooldown(row, now)
    await assertInvitationMailBudget(tx, org, deps.invitationMailsPerDay, now)
  }

  async function issued(tx: Kysely<Database>, actor: Actor, row: InvitationWithRole, token: string, acceptUrl: string, now: string): Promise<IssuedInvitation> {
    const shows = await isPlatformActor(tx, actor)
    return {invitation: toInvitation(row, now), acceptUrl: shows ? acceptUrl : null, token: shows ? token : null}
  }

  return {
    /**
     * Invites an address to join the organization with a role, and mails it an accept link (the
     * outbox, in this transaction) valid for invitation_ttl_seconds. Needs members.invite; the
     * role must exist in the org and be one the inviter could grant (role.grant_forbidden,
     * permission.not_held). The invitation takes a seat (org.seat_limit when none is left,
     * counted under the org's row lock). Tenant principals (not operators nor platform
     * principals) may mail invitation_mails_per_day invitations (created plus resent) per org and 24 hours (invitation.daily_limit, 429).
     * Audited invitation.created.
     * Raises org.not_found, org.deleted, auth.org_mismatch, permission.denied, role.not_found,
     * member.exists (the address is a member), invitation.exists (a live invitation exists:
     * resend it), org.seat_limit, invitation.daily_limit, validation.failed.
     */
    async invite(actor: Actor, input: CreateInvitationInput): Promise<IssuedInvitation> {
      const body = validateInput(createInvitationSchema, {email: input.email, role: input.role})
      try {
        return await inTransaction(db, async (tx) => {
          const access = await requireOrgPermission(tx, actor, input.org, 'members.invite', {lockOrg: true})
          const {org} = access
          const roleRow = await requireRoleInOrg(tx, org.id, org.slug, body.role)
          const role = await requireGrantableRole(tx, access.grant, roleRow.id, org)
          await refuseMember(tx, org, body.email)
          const now = nowIso(deps)
          const earlier = await findPendingInvitationOf(tx, org.id, body.email)
          if (earlier && isLive(earlier, now)) {
            throw new DomainError('invitation.exists', `${body.email} already has a pending invitation to "${org.slug}"; resend it instead`, {invitation_id: earlier.id})
          }
          // One past its expiry is replaced (it no longer takes a seat, and the index allows one pending).
          await assertMailAllowed(tx, actor, org, now)
          if (earlier) await tx.updateTable('invitation').set({status: 'expired'}).where('id', '=', earlier.id).where('status', '=', 'pending').execute()
          await assertSeatAvailable(tx, deps.tiers, org, now)
          const token = generateOpaqueToken(32)
          const inviter = await inviterOf(tx, actor)
          const row: InvitationRow = {
            id: deps.newId(),
            org_id: org.id,
            email: body.email,
            role_id: roleRow.id,
            token_hash: hashToken(token),
            invited_by_type: inviter.type,
            invited_by_id: inviter.id,
            invited_by_name: inviter.name,
            status: 'pending',
            created_at: now,
            expires_at: new Date(Date.parse(now) + ttlMs).toISOString(),
            sent_at: now,
            resend_count: 0,
            accepted_at: null,
            accepted_user_id: null,
            revoked_at: null,
          }
          await tx.insertInto('invitation').values(row).execute()
          const acceptUrl = await mailLink(tx, org, row, role.key, token)
          await audit.append(tx, actor, {action: 'invitation.created', orgId: org.id, target: {type: 'invitation', id: row.id}, metadata: {email: row.email, role: role.key, expires_at: row.expires_at}})
          return issued(tx, actor, {...row, role_key: role.key}, token, acceptUrl, now)
        })
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError('invitation.exists', `${body.email} already has a pending invitation to "${input.org}"; resend it instead`)
        throw error
      }
    },

    /**
     * The organization's pending invitations that have not expired, oldest first. Needs
     * members.invite. Raises org.not_found, org.deleted, auth.org_mismatch, permission.denied.
     */
    async listInvitations(actor: Actor, input: {org: string}): Promise<Invitation[]> {
      return inTransaction(db, async (tx) => {
        const {org} = await requireOrgPermission(tx, actor, input.org, 'members.invite')
        const now = nowIso(deps)
        return (await listLiveInvitations(tx, org.id, now)).map((row) => toInvitation(row, now))
      })
    },

    /**
     * Mails a pending invitation again with a new link: the old link stops working and the
     * expiry starts again. Needs members.invite and a role the caller could grant. One past its
     * expiry takes a seat again (org.seat_limit). For tenant principals (not operators nor
     * platform principals): at most one mail a minute per invitation (invitation.resend_too_soon,
     * 429; its creation counts) and the org's invitation_mails_per_day (invitation.daily_limit,
     * 429). Audited invitation.resent.
     * Raises invitation.not_found (also for another org's invitation), invitation.not_pending
     * (accepted or revoked), member.exists (the address joined meanwhile), org.seat_limit,
     * invitation.resend_too_soon, invitation.daily_limit, role.not_found, role.grant_forbidden,
     * permission.denied.
     */
    async resendInvitation(actor: Actor, input: InvitationRefInput): Promise<IssuedInvitation> {
      return inTransaction(db, async (tx) => {
        const {access, row} = await requireManagedInvitation(tx, actor, input)
        const {org} = access
        if (row.status !== 'pending') throw notPending(row)
        const role = await requireGrantableRole(tx, access.grant, row.role_id, org)
        await refuseMember(tx, org, row.email)
        const now = nowIso(deps)
        // The row was read after the org row lock: of concurrent resends, the later ones see the first one's sent_at.
        await assertMailAllowed(tx, actor, org, now, row)
        if (!isLive(row, now)) await assertSeatAvailable(tx, deps.tiers, org, now)
        const token = generateOpaqueToken(32)
        const expiresAt = new Date(Date.parse(now) + ttlMs).toISOString()
        const updated = await tx
          .updateTable('invitation')
          .set((eb) => ({token_hash: hashToken(token), expires_at: expiresAt, sent_at: now, resend_count: eb('resend_count', '+', 1)}))
          .where('id', '=', row.id)
          .where('status', '=', 'pending')
          .executeTakeFirst()
        if (Number(updated.numUpdatedRows) !== 1) throw notPending(row)
        const acceptUrl = await mailLink(tx, org, row, role.key, token)
        await audit.append(tx, actor, {action: 'invitation.resent', orgId: org.id, target: {type: 'invitation', id: row.id}, metadata: {email: row.email, role: role.key, expires_at: expiresAt}})
        const fresh = (await findInvitation(tx, row.id, org.id)) as InvitationWithRole
        return issued(tx, actor, fresh, token, acceptUrl, now)
      })
    },

    /**
     * Revokes a pending invitation (expired or not): its link stops working and its seat is
     * free. Needs members.invite and a role the caller could grant. Revoking a revoked one
     * changes nothing. Audited invitation.revoked.
     * Raises invitation.not_found (also for another org's invitation), invitation.not_pending
     * (accepted), role.grant_forbidden, permission.denied.
     */
    async revokeInvitation(actor: Actor, input: InvitationRefInput): Promise<Invitation> {
      return inTransaction(db, async (tx) => {
        const {access, row} = await requireManagedInvitation(tx, actor, input)
        const now = nowIso(deps)
        if (row.status === 'revoked') return toInvitation(row, now)
        if (row.status !== 'pending') throw notPending(row)
        // A custom role deleted since may be revoked by anyone who may invite.
        const roles = await grantableRoles(tx, [row.role_id])
        if (roles.has(row.role_id)) throwRefusal(canGrant(access.grant, roleFrom(roles, row.role_id)))
        await tx.updateTable('invitation').set({status: 'revoked', revoked_at: now}).where('id', '=', row.id).where('status', '=', 'pending').execute()
        await audit.append(tx, actor, {action: 'invitation.revoked', orgId: row.org_id, target: {type: 'invitation', id: row.id}, metadata: {email: row.email, role: row.role_key}})
        return toInvitation({...row, status: 'revoked', revoked_at: now}, now)
      })
    },
  }
}

/** Raises member.exists when the address's account is a member of the org (added directly since, say). */
async function refuseMember(tx: Kysely<Database>, org: OrganizationRow, email: string): Promise<void> {
  const invitee = await findUserByEmail(tx, email)
  if (!invitee) return
  const membership = await tx.selectFrom('membership').select('id').where('org_id', '=', org.id).where('user_id', '=', invitee.id).executeTakeFirst()
  if (membership) throw new DomainError('member.exists', `${email} is already a member of "${org.slug}"`)
}

function notPending(row: Pick<InvitationRow, 'id' | 'status'>): DomainError {
  return new DomainError('invitation.not_pending', `Invitation ${row.id} is ${row.status}`, {status: row.status})
}

/** Who invites, as the invitation shows them: a user by name (else email), a key or operator by name. */
async function inviterOf(tx: Kysely<Database>, actor: Actor): Promise<{type: string; id: string | null; name: string | null}> {
  const recorded = auditActorOf(actor)
  if (actor.principal.kind !== 'user') return {type: recorded.type, id: recorded.id, name: recorded.name}
  const user = await tx.selectFrom('user_account').select(['name', 'email']).where('id', '=', actor.principal.userId).executeTakeFirst()
  return {type: 'user', id: actor.principal.userId, name: user?.name ?? user?.email ?? null}
}
