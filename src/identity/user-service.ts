import type {Kysely} from 'kysely'
import type {Actor} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database, UserAccountRow} from '../db/database.js'
import {isUniqueViolation, lockOrganization, lockUser} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {hasAnotherOwner, listMembershipsOfUser, type UserMembership} from '../access/membership-repo.js'
import {OWNER_ROLE_KEY} from '../access/role-repo.js'
import type {PasswordHasher} from '../security/password-hasher.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {requireUser, toUser, type User} from './user-repo.js'
import type {RevocationSignal} from './revocation-signal.js'
import {revokeEverythingOfUser} from './session-revocation.js'
import {createUserSchema, updateUserSchema, type CreateUserInput, type UpdateUserInput} from './user-schemas.js'


export interface UserDetails extends User {
  memberships: UserMembership[]
}

export type UserService = ReturnType<typeof createUserService>

export function createUserService(deps: ServiceDeps & {audit: AuditLog; passwords: Pick<PasswordHasher, 'hashPassword'>; accessTokenTtlSeconds: number; revocationSignal: RevocationSignal}) {
  const {db, audit} = deps

  async function setDisabled(actor: Actor, ref: string, isDisabled: boolean): Promise<User> {
    const user = await inTransaction(db, async (tx) => {
      const row = await requireUser(tx, ref, {allowDisabled: true})
      if (Boolean(row.disabled_at) === isDisabled) return toUser(row)
      await lockUser(tx, row.id)
      const now = nowIso(deps)
      const disabledAt = isDisabled ? now : null
      await tx.updateTable('user_account').set({disabled_at: disabledAt, updated_at: now}).where('id', '=', row.id).execute()
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
     * Raises validation.failed, user.email_taken.
     */
    async createUser(actor: Actor, input: CreateUserInput, trx?: Kysely<Database>, precomputedPasswordHash?: string): Promise<{user: User; created: boolean}> {
      const parsed = validateInput(createUserSchema, input)
      // Hash outside the transaction: argon2 is slow on purpose and must not hold the write lock.
      // A caller with its own transaction (registration) hashes before opening it.
      const passwordHash = precomputedPasswordHash ?? (parsed.password ? await deps.passwords.hashPassword(parsed.password) : null)
      try {
        return await inTransaction(trx ?? db, async (tx) => {
          const existing = await tx.selectFrom('user_account').selectAll().where('email', '=', parsed.email).executeTakeFirst()
          if (existing) {
            const isSame = parsed.ifNotExists && (parsed.name === undefined || parsed.name === existing.name)
            if (!isSame) throw new DomainError('user.email_taken', `A user with email ${parsed.email} already exists`)
            return {user: toUser(existing), created: false}
          }
          const now = nowIso(deps)
          const row: UserAccountRow = {
            id: deps.newId(),
            email: parsed.email,
            name: parsed.name ?? null,
            password_hash: passwordHash,
            is_platform_admin: parsed.isPlatformAdmin ? 1 : 0,
            email_verified_at: null,
            password_changed_at: passwordHash ? now : null,
            disabled_at: null,
            created_at: now,
            updated_at: now,
          }
          await tx.insertInto('user_account').values(row).execute()
          await audit.append(tx, actor, {
            action: 'user.created',
            target: {type: 'user', id: row.id},
            metadata: {email: row.email, name: row.name, is_platform_admin: parsed.isPlatformAdmin, has_password: passwordHash !== null},
          })
          return {user: toUser(row), created: true}
        })
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError('user.email_taken', `A user with email ${parsed.email} already exists`)
        throw error
      }
    },

    async listUsers(): Promise<User[]> {
      const rows = await db.selectFrom('user_account').selectAll().orderBy('created_at').orderBy('email').execute()
      return rows.map(toUser)
    },

    /** A user with their memberships. Raises user.not_found. */
    async showUser(ref: string): Promise<UserDetails> {
      const row = await requireUser(db, ref, {allowDisabled: true})
      return {...toUser(row), memberships: await listMembershipsOfUser(db, row.id, {includeDeletedOrgs: true})}
    },

    /** Changes a user's name or email. Raises validation.failed, user.not_found, user.email_taken. */
    async updateUser(actor: Actor, ref: string, input: UpdateUserInput): Promise<User> {
      const parsed = validateInput(updateUserSchema, input)
      try {
        return await inTransaction(db, async (tx) => {
          const row = await requireUser(tx, ref, {allowDisabled: true})
          const changes: Record<string, {from: unknown; to: unknown}> = {}
          if (parsed.name !== undefined && parsed.name !== row.name) changes.name = {from: row.name, to: parsed.name}
          if (parsed.email !== undefined && parsed.email !== row.email) changes.email = {from: row.email, to: parsed.email}
          if (Object.keys(changes).length === 0) return toUser(row)
          const updated = {...row, name: parsed.name ?? row.name, email: parsed.email ?? row.email, updated_at: nowIso(deps)}
          await tx.updateTable('user_account').set({name: updated.name, email: updated.email, updated_at: updated.updated_at}).where('id', '=', row.id).execute()
          await audit.append(tx, actor, {action: 'user.updated', target: {type: 'user', id: row.id}, metadata: {changes}})
          return toUser(updated)
        })
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError('user.email_taken', `A user with email ${parsed.email} already exists`)
        throw error
      }
    },

    /** A disabled user keeps their data but can neither log in nor be added to organizations. Raises user.not_found. */
    disableUser: (actor: Actor, ref: string) => setDisabled(actor, ref, true),
    enableUser: (actor: Actor, ref: string) => setDisabled(actor, ref, false),

    /**
     * Deletes a user and their memberships. Refused with user.is_last_owner while the user is
     * the only owner of an organization. Raises user.not_found.
     */
    async deleteUser(actor: Actor, ref: string): Promise<User> {
      const deleted = await inTransaction(db, async (tx) => {
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
        const sessionIds = tx.selectFrom('session').select('id').where('user_id', '=', row.id)
        await tx.deleteFrom('refresh_token').where('session_id', 'in', sessionIds).execute()
        await tx.deleteFrom('session').where('user_id', '=', row.id).execute()
        const removed = await tx.deleteFrom('membership').where('user_id', '=', row.id).executeTakeFirst()
        await tx.deleteFrom('user_account').where('id', '=', row.id).execute()
        await audit.append(tx, actor, {action: 'user.deleted', target: {type: 'user', id: row.id}, metadata: {email: row.email, memberships_removed: Number(removed.numDeletedRows)}})
        return toUser(row)
      })
      await deps.revocationSignal.notify()
      return deleted
    },
  }
}
