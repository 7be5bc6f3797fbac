import type {Kysely} from 'kysely'
import type {Database, UserAccountRow} from '../db/database.js'
import {sharedQuery} from '../db/prepared-query.js'
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

// The user lookups and insert every member add and user create run, compiled once (sharedQuery):
// Kysely rebuilding them on each of thousands of calls (an apply) cost more than running them.
const selectUserById = sharedQuery(1, (db, id: string) => (db as Kysely<Database>).selectFrom('user_account').selectAll().where('id', '=', id))
const selectUserByEmail = sharedQuery(1, (db, email: string) => (db as Kysely<Database>).selectFrom('user_account').selectAll().where('email', '=', email))

/** A user by id or email; null when there is none. */
export async function findUserByRef(db: Kysely<Database>, ref: string): Promise<UserAccountRow | null> {
  const byId = await findUserById(db, ref)
  if (byId) return byId
  return findUserByEmail(db, ref)
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

/** A user by id; null when there is none. */
export async function findUserById(db: Kysely<Database>, userId: string): Promise<UserAccountRow | null> {
  return (await selectUserById(db, userId)).rows[0] ?? null
}

/** A user by email (normalized here); null when there is none. */
export async function findUserByEmail(db: Kysely<Database>, email: string): Promise<UserAccountRow | null> {
  return (await selectUserByEmail(db, normalizeEmail(email))).rows[0] ?? null
}

/** Every user, oldest first. */
export async function listUserRows(db: Kysely<Database>): Promise<UserAccountRow[]> {
  return db.selectFrom('user_account').selectAll().orderBy('created_at').orderBy('email').execute()
}

const USER_COLUMNS = ['id', 'email', 'name', 'password_hash', 'is_platform_admin', 'email_verified_at', 'password_changed_at', 'disabled_at', 'created_at', 'updated_at'] as const satisfies readonly (keyof UserAccountRow)[]
// Every column of the row (a compile error otherwise): the insert writes what values(row) would.
const USER_COLUMNS_ARE_COMPLETE: [Exclude<keyof UserAccountRow, (typeof USER_COLUMNS)[number]>] extends [never] ? true : never = true
const insertUserQuery = sharedQuery(USER_COLUMNS.length, (db, ...values: unknown[]) => (db as Kysely<Database>).insertInto('user_account').values(Object.fromEntries(USER_COLUMNS.map((column, index) => [column, values[index]])) as UserAccountRow))

export async function insertUser(db: Kysely<Database>, row: UserAccountRow): Promise<void> {
  await insertUserQuery(db, ...USER_COLUMNS.map((column) => row[column]))
}

export async function updateUserProfile(db: Kysely<Database>, userId: string, changes: {name: string | null; email: string; updatedAt: string}): Promise<void> {
  await db.updateTable('user_account').set({name: changes.name, email: changes.email, updated_at: changes.updatedAt}).where('id', '=', userId).execute()
}

export async function setUserDisabledAt(db: Kysely<Database>, userId: string, disabledAt: string | null, now: string): Promise<void> {
  await db.updateTable('user_account').set({disabled_at: disabledAt, updated_at: now}).where('id', '=', userId).execute()
}

/** Stores a new password hash chosen by the user (the password changed at `now`). */
export async function setPasswordHash(db: Kysely<Database>, userId: string, passwordHash: string, now: string): Promise<void> {
  await db.updateTable('user_account').set({password_hash: passwordHash, password_changed_at: now, updated_at: now}).where('id', '=', userId).execute()
}

/**
 * Replaces a hash with one of the same password made with today's parameters, unless the hash
 * changed meanwhile (a password change wins over a rehash).
 */
export async function replacePasswordHash(db: Kysely<Database>, userId: string, previousHash: string, rehashed: string): Promise<void> {
  await db.updateTable('user_account').set({password_hash: rehashed}).where('id', '=', userId).where('password_hash', '=', previousHash).execute()
}

export async function deleteUserRow(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom('user_account').where('id', '=', userId).execute()
}

/** Marks the user's email verified at `now`, unless the address changed meanwhile; true when it did. */
export async function setEmailVerifiedAt(db: Kysely<Database>, userId: string, email: string, now: string): Promise<boolean> {
  const result = await db.updateTable('user_account').set({email_verified_at: now, updated_at: now}).where('id', '=', userId).where('email', '=', email).executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Gives the user a new email address, not yet verified. */
export async function changeUserEmail(db: Kysely<Database>, userId: string, email: string, now: string): Promise<void> {
  await db.updateTable('user_account').set({email, email_verified_at: null, updated_at: now}).where('id', '=', userId).execute()
}
