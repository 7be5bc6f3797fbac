import type {Kysely} from 'kysely'
import {hasAnotherOwner, listMembershipsOfUser, type UserMembership} from '../access/membership-repo.js'
import {requirePlatformActor} from '../access/org-access.js'
import type {Actor} from '../access/principal.js'
import {OWNER_ROLE_KEY} from '../access/role-repo.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database} from '../db/database.js'
import {lockOrganization, lockUser} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import type {PasswordHasher} from '../security/password-hasher.js'
import {assertNewPassword} from '../security/password-policy.js'
import type {PurgeHooks} from '../shared/purge-hooks.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import type {RevocationSignal} from './revocation-signal.js'
import {revokeEverythingOfUser} from './session-revocation.js'
import type {EmailChanges} from './email-change.js'
import {insertNewUser, withUniqueEmail} from './user-creation.js'
import {deleteUserRow, listUserRows, requireUser, setUserDisabledAt, toUser, updateUserProfile, type User} from './user-repo.js'
import {createUserSchema, updateUserSchema, userRefSchema, type CreateUserInput, type UpdateUserInput, type UserRefInput} from './user-schemas.js'

export interface UserDetails extends User {
  memberships: UserMembership[]
}

export type UserService = ReturnType<typeof createUserService>

interface UserServiceDeps extends ServiceDeps {
  audit: AuditLog
  passwords: Pick<PasswordHasher, 'hashPassword'>
  accessTokenTtlSeconds: number
  revocationSignal: RevocationSignal
  /** What each feature deletes with a user (sessions, memberships, …). */
  purgeHooks: Pick<PurgeHooks, 'purgeUser'>
  /** A new email address: unverified, a verification link to it, a notice to the old one. */
  emailChanges: Pick<EmailChanges, 'applyEmailChange'>
}

/**
 * User administration: platform principals only (operators, platform keys, platform admins);
 * every method raises platform.required for anyone else. Self-registration creates users
 * through the authentication service instead.
 */
export function createUserService(deps: UserServiceDeps) {
  const {db, audit} = deps
  const requirePlatform = (tx: Kysely<Database>, actor: Actor) => requirePlatformActor(tx, actor, 'manage users')

  async function setDisabled(actor: Actor, input: UserRefInput, isDisabled: boolean): Promise<User> {
    const {user: ref} = validateInput(userRefSchema, input)
    const user = await inTransaction(db, async (tx) => {
      await requirePlatform(tx, actor)
      const row = await requireUser(tx, ref, {allowDisabled: true})
      if (Boolean(row.disabled_at) === isDisabled) return toUser(row)
      await lockUser(tx, row.id)
      const now = nowIso(deps)
      const disabledAt = isDisabled ? now : null
      await setUserDisabledAt(tx, row.id, disabledAt, now)
      // A disabled user is out everywhere: sessions end and live access tokens are refused.
      const revokedSessions = isDisabled ? await revokeEverythingOfUser(tx, row.id, 'user_disabled', {now, accessTokenTtlSeconds: deps.accessTokenTtlSeconds}) : []
      await audit.append(tx, actor, {
        action: isDisabled ? 'user.disabled' : 'user.enabled',
        target: {type: 'user', id: row.id},
        metadata: isDisabled ? {email: row.email, sessions_revoked: revokedSessions.length} : {email: row.email},
      })
      return toUser({...row, disabled_at: disabledAt, updated_at: now})
    })
    if (isDisabled) await deps.revocationSignal.notify()
    return user
  }

  return {
    /**
     * Creates a user (the password, when given, is stored only as an argon2id hash). With
     * `ifNotExists`, a user with the same email (and name, when given) is returned instead.
     * A password must pass the policy for new passwords. Raises platform.required,
     * validation.failed, password.too_weak, user.email_taken.
     */
    async createUser(actor: Actor, input: CreateUserInput, trx?: Kysely<Database>, precomputedPasswordHash?: string): Promise<{user: User; created: boolean}> {
      const parsed = validateInput(createUserSchema, input)
      if (parsed.password !== undefined && precomputedPasswordHash === undefined) assertNewPassword(parsed.password, {email: parsed.email})
      // Hash outside the transaction: argon2 is slow on purpose and must not hold the write lock.
      const passwordHash = precomputedPasswordHash ?? (parsed.password ? await deps.passwords.hashPassword(parsed.password) : null)
      return withUniqueEmail(parsed.email, () =>
        inTransaction(trx ?? db, async (tx) => {
          await requirePlatform(tx, actor)
          return insertNewUser(tx, deps, actor, parsed, passwordHash)
        }),
      )
    },

    /** Every user, oldest first. Raises platform.required. */
    async listUsers(actor: Actor): Promise<User[]> {
      await requirePlatform(db, actor)
      return (await listUserRows(db)).map(toUser)
    },

    /** A user (email or id) with their memberships. Raises platform.required, user.not_found. */
    async showUser(actor: Actor, input: UserRefInput): Promise<UserDetails> {
      const {user: ref} = validateInput(userRefSchema, input)
      await requirePlatform(db, actor)
      const row = await requireUser(db, ref, {allowDisabled: true})
      return {...toUser(row), memberships: await listMembershipsOfUser(db, row.id, {includeDeletedOrgs: true})}
    },

    /**
     * Changes a user's name or email (audited user.updated). A new email is not verified: it
     * gets a verification link and the old address a notice (audited user.email_changed too).
     * Raises platform.required, validation.failed, user.not_found, user.email_taken.
     */
    async updateUser(actor: Actor, input: UpdateUserInput): Promise<User> {
      const parsed = validateInput(updateUserSchema, input)
      return withUniqueEmail(parsed.email, () =>
        inTransaction(db, async (tx) => {
          await requirePlatform(tx, actor)
          const row = await requireUser(tx, parsed.user, {allowDisabled: true})
          const changes: Record<string, {from: unknown; to: unknown}> = {}
          if (parsed.name !== undefined && parsed.name !== row.name) changes.name = {from: row.name, to: parsed.name}
          if (parsed.email !== undefined && parsed.email !== row.email) changes.email = {from: row.email, to: parsed.email}
          if (Object.keys(changes).length === 0) return toUser(row)
          await lockUser(tx, row.id)
          const changed = changes.email && parsed.email ? await deps.emailChanges.applyEmailChange(tx, actor, row, parsed.email) : row
          const updated = {...changed, name: parsed.name ?? row.name, updated_at: nowIso(deps)}
          await updateUserProfile(tx, row.id, {name: updated.name, email: updated.email, updatedAt: updated.updated_at})
          await audit.append(tx, actor, {action: 'user.updated', target: {type: 'user', id: row.id}, metadata: {changes}})
          return toUser(updated)
        }),
      )
    },

    /**
     * A disabled user keeps their data but can neither log in nor be added to organizations;
     * their sessions end and their access tokens are refused. Raises platform.required, user.not_found.
     */
    disableUser: (actor: Actor, input: UserRefInput) => setDisabled(actor, input, true),
    /** Lets a disabled user log in again. Raises platform.required, user.not_found. */
    enableUser: (actor: Actor, input: UserRefInput) => setDisabled(actor, input, false),

    /**
     * Deletes a user for good with what every feature keeps of them (its purge hooks:
     * sessions, memberships, …); the audit log keeps their events. Refused with
     * user.is_last_owner while the user is the only owner of an organization. Raises
     * platform.required, user.not_found.
     */
    async deleteUser(actor: Actor, input: UserRefInput): Promise<User> {
      const {user: ref} = validateInput(userRefSchema, input)
      const deleted = await inTransaction(db, async (tx) => {
        await requirePlatform(tx, actor)
        const row = await requireUser(tx, ref, {allowDisabled: true})
        // Lock order everywhere: user row, organization rows, revocation log, audit chain.
        await lockUser(tx, row.id)
        const memberships = await listMembershipsOfUser(tx, row.id, {includeDeletedOrgs: true})
        const soleOwnerOf: string[] = []
        for (const membership of memberships) {
          await lockOrganization(tx, membership.orgId)
          if (membership.role === OWNER_ROLE_KEY && !(await hasAnotherOwner(tx, membership.orgId, row.id))) soleOwnerOf.push(membership.orgSlug)
        }
        if (soleOwnerOf.length > 0) {
          throw new DomainError('user.is_last_owner', `User ${row.email} is the last owner of ${soleOwnerOf.join(', ')}; make someone else owner first`, {orgs: soleOwnerOf})
        }
        await revokeEverythingOfUser(tx, row.id, 'user_deleted', {now: nowIso(deps), accessTokenTtlSeconds: deps.accessTokenTtlSeconds})
        const removed = await deps.purgeHooks.purgeUser(tx, row.id)
        await deleteUserRow(tx, row.id)
        await audit.append(tx, actor, {action: 'user.deleted', target: {type: 'user', id: row.id}, metadata: {email: row.email, memberships_removed: removed.memberships ?? 0, removed}})
        return toUser(row)
      })
      await deps.revocationSignal.notify()
      return deleted
    },
  }
}
