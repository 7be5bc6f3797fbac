import type {Kysely} from 'kysely'
import type {Actor} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database, UserAccountRow} from '../db/database.js'
import {isUniqueViolation} from '../db/dialect-helpers.js'
import {DomainError} from '../errors/domain-error.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {findUserByEmail, insertUser, toUser, type User} from './user-repo.js'
import type {createUserSchema} from './user-schemas.js'
import type {z} from 'zod'

export type ParsedNewUser = z.output<typeof createUserSchema>

export function emailTaken(email: string): DomainError {
  return new DomainError('user.email_taken', `A user with email ${email} already exists`)
}

/**
 * Inserts a user and audits user.created inside `tx`, with no check of who asks: the user
 * service checks for a platform principal first; registration is the one path that needs none.
 * With `ifNotExists`, a user with the same email (and name, when given) is returned instead.
 * Raises user.email_taken.
 */
export async function insertNewUser(tx: Kysely<Database>, deps: ServiceDeps & {audit: AuditLog}, actor: Actor, parsed: ParsedNewUser, passwordHash: string | null): Promise<{user: User; created: boolean}> {
  const existing = await findUserByEmail(tx, parsed.email)
  if (existing) {
    const isSame = parsed.ifNotExists && (parsed.name === undefined || parsed.name === existing.name)
    if (!isSame) throw emailTaken(parsed.email)
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
  await insertUser(tx, row)
  await deps.audit.append(tx, actor, {
    action: 'user.created',
    target: {type: 'user', id: row.id},
    metadata: {email: row.email, name: row.name, is_platform_admin: parsed.isPlatformAdmin, has_password: passwordHash !== null},
  })
  return {user: toUser(row), created: true}
}

/** Runs work that writes a user's email; a concurrent writer of the same email becomes user.email_taken. */
export async function withUniqueEmail<Result>(email: string | undefined, work: () => Promise<Result>): Promise<Result> {
  try {
    return await work()
  } catch (error) {
    if (isUniqueViolation(error)) throw emailTaken(email ?? '')
    throw error
  }
}
