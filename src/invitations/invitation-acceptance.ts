import type {Principal, RequestOrigin} from '../access/principal.js'
import {userActor} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import {lockOrganization} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {createLinkTokenGuard} from '../identity/link-token-guard.js'
import {isInvitationRegistrationAllowed, type RegistrationPolicy} from '../identity/registration-policy.js'
import {insertNewUser, withUniqueEmail} from '../identity/user-creation.js'
import {findUserByEmail, findUserById, toUser, type User} from '../identity/user-repo.js'
import {createUserSchema} from '../identity/user-schemas.js'
import type {PasswordHasher} from '../security/password-hasher.js'
import {assertNewPassword} from '../security/password-policy.js'
import {hashToken} from '../security/secure-token.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {findOrgByRef, toOrganization, type Organization} from '../tenancy/org-repo.js'
import {assertSeatAvailable} from '../tenancy/seat-limit.js'
import type {TierTable} from '../tenancy/tiers.js'
import {findInvitationByToken, isLive, type InvitationWithRole} from './invitation-repo.js'
import {acceptInvitationSchema, invitationTokenSchema, type AcceptInvitationInput} from './invitation-schemas.js'

export interface InvitationAcceptanceDeps extends ServiceDeps {
  audit: AuditLog
  passwords: Pick<PasswordHasher, 'hashPassword'>
  tiers: TierTable
  /** Setting `registration`: invite_only lets an invitation create an account, closed does not. */
  registration: RegistrationPolicy
  failedAttemptsPerMinute: number
}

/** What the invitee is shown of an invitation: nothing else (no ids, no other invitations). */
export interface InvitationPreview {
  org: {name: string; slug: string}
  role: string
  email: string
  invitedBy: string | null
  expiresAt: string
}

export interface AcceptedInvitation {
  user: User
  org: Organization
  role: string
  /** Whether the acceptance created the account (then verified by it). */
  createdAccount: boolean
}

/**
 * The invitee's side: reading an invitation by its link's token, and accepting it. Every wrong,
 * expired, used or revoked token is one answer (auth.invalid_link_token) and counts against the
 * client IP's failure budget (kind invite_token; auth.too_many_attempts beyond it), so tokens
 * cannot be guessed.
 */
export function createInvitationAcceptance(deps: InvitationAcceptanceDeps) {
  const {db, audit} = deps
  const guard = createLinkTokenGuard(deps)

  /** The live invitation of a token in an org that is not deleted, or the one refusal. */
  async function requireLiveInvitation(origin: RequestOrigin, token: string): Promise<{row: InvitationWithRole; orgName: string; orgSlug: string}> {
    const parsed = invitationTokenSchema.safeParse(token)
    await guard.assertBudget('invite_token', origin)
    const row = parsed.success ? await findInvitationByToken(db, parsed.data) : null
    const org = row ? await findOrgByRef(db, row.org_id) : null
    if (!row || !org || org.deleted_at || !isLive(row, nowIso(deps)) || row.role_key === null) return guard.refuse('invite_token', origin)
    return {row, orgName: org.name, orgSlug: org.slug}
  }

  return {
    /**
     * What a live invitation offers: the org's name and slug, the role, the invited address,
     * who invited and until when. Raises auth.invalid_link_token, auth.too_many_attempts.
     */
    async showInvitation(origin: RequestOrigin, token: string): Promise<InvitationPreview> {
      const {row, orgName, orgSlug} = await requireLiveInvitation(origin, token)
      return {org: {name: orgName, slug: orgSlug}, role: row.role_key as string, email: row.email, invitedBy: row.invited_by_name, expiresAt: row.expires_at}
    },

    /**
     * Accepts an invitation, once. `principal`: a user signed in with an access token, whose
     * verified address must be the invited one (invitation.email_mismatch; unverified:
     * auth.email_not_verified). Without one, `{name, password}` creates the account (the
     * password policy applies; the address counts as verified by the acceptance); refused with
     * invitation.sign_in_required when an account has the address, and registration.closed when
     * the setting `registration` is closed (invite_only allows it). The invitation is claimed by
     * one conditional update under the org's row lock: of concurrent accepts exactly one joins,
     * the others get auth.invalid_link_token. The acceptance holds the invitation's seat; it is
     * refused (org.seat_limit, without the org's counts in its details: the invitee is no
     * member) only when the members alone already fill a lowered limit; a refusal rolls the
     * claim back.
     * Audited invitation.accepted and member.added (and user.created for a new account).
     * Raises auth.invalid_link_token, auth.too_many_attempts, member.exists, org.seat_limit,
     * password.too_weak, validation.failed, user.disabled.
     */
    async acceptInvitation(origin: RequestOrigin, token: string, input: AcceptInvitationInput & {principal?: Principal | null}): Promise<AcceptedInvitation> {
      const signedIn = input.principal ?? null
      if (signedIn && signedIn.kind !== 'user') throw new DomainError('auth.invalid_token', 'Accept an invitation signed in as a user (an access token), or with a name and password', {reason: 'not_a_user'})
      const body = validateInput(acceptInvitationSchema, {name: input.name, password: input.password})
      const {row} = await requireLiveInvitation(origin, token)
      let passwordHash: string | null = null
      if (signedIn) {
        const user = await findUserById(db, signedIn.userId)
        if (!user || user.disabled_at) throw new DomainError('user.disabled', 'The signed-in account is not active')
        if (user.email !== row.email) throw new DomainError('invitation.email_mismatch', 'This invitation is for another email address; sign in as that account')
        if (!user.email_verified_at) throw new DomainError('auth.email_not_verified', 'Verify your email address first, then accept the invitation')
      } else {
        if (await findUserByEmail(db, row.email)) throw new DomainError('invitation.sign_in_required', 'An account with this email address exists: sign in as it to accept the invitation')
        if (!isInvitationRegistrationAllowed(deps.registration)) throw new DomainError('registration.closed', 'Registration is closed')
        if (body.password === undefined || body.name === undefined) {
          const problems = [...(body.name === undefined ? [{field: 'name', message: 'required to create the account'}] : []), ...(body.password === undefined ? [{field: 'password', message: 'required to create the account'}] : [])]
          throw new DomainError('validation.failed', `Invalid ${problems[0]!.field}: required to create the account (or sign in)`, {problems})
        }
        assertNewPassword(body.password, {email: row.email})
        // Hashed before the transaction: argon2 is slow on purpose and must not hold the write lock.
        passwordHash = await deps.passwords.hashPassword(body.password)
      }
      const tokenHash = hashToken(token.trim())
      const outcome = await withUniqueEmail(row.email, () =>
        inTransaction(db, async (tx) => {
          await lockOrganization(tx, row.org_id)
          const org = await findOrgByRef(tx, row.org_id)
          const now = nowIso(deps)
          if (!org || org.deleted_at) return null
          // Read under the org lock (deleteRole takes it too) and before the claim: a role deleted
          // since the link was checked leaves the invitation unusable, as the link check says,
          // and nothing is written (never an accepted invitation without its membership).
          const role = await tx.selectFrom('role').select(['id', 'key']).where('id', '=', row.role_id).executeTakeFirst()
          if (!role) return null
          // Claimed first: of concurrent accepts of one link the losers get the invalid-link
          // answer, whatever the seats. A refusal below throws, and the claim is rolled back.
          const claimed = await tx
            .updateTable('invitation')
            .set({status: 'accepted', accepted_at: now})
            .where('id', '=', row.id)
            .where('token_hash', '=', tokenHash)
            .where('status', '=', 'pending')
            .where('expires_at', '>', now)
            .executeTakeFirst()
          if (Number(claimed.numUpdatedRows) !== 1) return null
          // The claim changes no count of members: 'held' counts them alone.
          await assertSeatAvailableToInvitee(tx, deps.tiers, org, now)
          let userId: string
          let createdAccount = false
          if (signedIn) {
            userId = signedIn.userId
          } else {
            if (await findUserByEmail(tx, row.email)) throw new DomainError('invitation.sign_in_required', 'An account with this email address exists: sign in as it to accept the invitation')
            const registrant = userActor({userId: '', sessionId: '', orgId: null, email: row.email}, origin)
            const newUser = validateInput(createUserSchema, {email: row.email, name: body.name})
            const {user} = await insertNewUser(tx, deps, registrant, newUser, passwordHash)
            // Following the mailed link proved the mailbox.
            await tx.updateTable('user_account').set({email_verified_at: now}).where('id', '=', user.id).execute()
            userId = user.id
            createdAccount = true
          }
          const actor = userActor({userId, sessionId: signedIn?.kind === 'user' ? signedIn.sessionId : '', orgId: null, email: row.email}, origin)
          const existing = await tx.selectFrom('membership').select('id').where('org_id', '=', org.id).where('user_id', '=', userId).executeTakeFirst()
          if (existing) throw new DomainError('member.exists', `${row.email} is already a member of "${org.slug}"`)
          await tx.insertInto('membership').values({id: deps.newId(), org_id: org.id, user_id: userId, role_id: role.id, created_at: now, updated_at: now}).execute()
          await tx.updateTable('invitation').set({accepted_user_id: userId}).where('id', '=', row.id).execute()
          await audit.append(tx, actor, {action: 'invitation.accepted', orgId: org.id, target: {type: 'invitation', id: row.id}, metadata: {email: row.email, role: role.key, user_id: userId, created_account: createdAccount}})
          await audit.append(tx, actor, {action: 'member.added', orgId: org.id, target: {type: 'user', id: userId}, metadata: {email: row.email, role: role.key, invitation_id: row.id}})
          const user = await findUserById(tx, userId)
          return {user: toUser(user!), org: toOrganization(org), role: role.key, createdAccount}
        }),
      )
      if (!outcome) return guard.refuse('invite_token', origin)
      await guard.recordSuccess('invite_token', origin, outcome.user.id)
      return outcome
    },
  }
}

/**
 * The acceptance's seat check: refused only when the members alone fill the limit. The
 * invitee is not a member (and may hold no account): the refusal does not tell them how many
 * members and pending invitations the org has, nor its limit.
 */
async function assertSeatAvailableToInvitee(tx: Parameters<typeof assertSeatAvailable>[0], tiers: TierTable, org: Parameters<typeof assertSeatAvailable>[2], now: string): Promise<void> {
  try {
    await assertSeatAvailable(tx, tiers, org, now, {kind: 'held'})
  } catch (error) {
    if (error instanceof DomainError && error.code === 'org.seat_limit') throw new DomainError('org.seat_limit', `"${org.slug}" has no seat left`)
    throw error
  }
}
