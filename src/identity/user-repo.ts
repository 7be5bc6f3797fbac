import type {Kysely} from 'kysely'
import type {Database, UserAccountRow} from '../db/database.js'
import {DomainError} from '../errors/domain-error.js'

/** A user as services hand it out: never the password hash. */
export interface User {
  id: string
  email: string
  name: string | null
  isPlatformAdmin: boolean
  status: 'active' | 'disabled'
  emailVerifiedAt: string | null
  disabledAt: string | null
  createdAt: string
  updatedAt: string
}

/** Emails are stored trimmed and lowercased, which makes them unique case-insensitively. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

/** A user by id or email; null when there is none. */
export async function findUserByRef(db: Kysely<Database>, ref: string): Promise<UserAccountRow | null> {
  const byId = await db.selectFrom('user_account').selectAll().where('id', '=', ref).executeTakeFirst()
  if (byId) return byId
  const byEmail = await db.selectFrom('user_account').selectAll().where('email', '=', normalizeEmail(ref)).executeTakeFirst()
  return byEmail ?? null
}

/** A user by id or email. Raises `user.not_found`, and `user.disabled` unless disabled users are wanted. */
export async function requireUser(db: Kysely<Database>, ref: string, options: {allowDisabled?: boolean} = {}): Promise<UserAccountRow> {
  const row = await findUserByRef(db, ref)
  if (!row) throw new DomainError('user.not_found', `No user "${ref}"`)
  if (row.disabled_at && !options.allowDisabled) throw new DomainError('user.disabled', `User ${row.email} is disabled`)
  return row
}

export function toUser(row: UserAccountRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    isPlatformAdmin: row.is_platform_admin === 1,
    status: row.disabled_at ? 'disabled' : 'active',
    emailVerifiedAt: row.email_verified_at,
    disabledAt: row.disabled_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}
