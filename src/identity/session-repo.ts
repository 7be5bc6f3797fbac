import type {Kysely} from 'kysely'
import type {Database, SessionRow} from '../db/database.js'

/** A session as services hand it out. */
export interface Session {
  id: string
  userId: string
  orgId: string | null
  userAgent: string | null
  ip: string | null
  createdAt: string
  lastUsedAt: string
  expiresAt: string
  isCurrent?: boolean
}

export function toSession(row: SessionRow): Session {
  return {id: row.id, userId: row.user_id, orgId: row.org_id, userAgent: row.user_agent, ip: row.ip, createdAt: row.created_at, lastUsedAt: row.last_used_at, expiresAt: row.expires_at}
}

/** Client-supplied text (a user agent) cut to a length the tables and the audit log keep. */
export function truncate(value: string | null | undefined, length: number): string | null {
  return value ? value.slice(0, length) : null
}

export async function insertSession(db: Kysely<Database>, row: SessionRow): Promise<void> {
  await db.insertInto('session').values(row).execute()
}

/** A session by id (of that user, when given); null when there is none. */
export async function findSession(db: Kysely<Database>, sessionId: string, userId?: string): Promise<SessionRow | null> {
  let query = db.selectFrom('session').selectAll().where('id', '=', sessionId)
  if (userId !== undefined) query = query.where('user_id', '=', userId)
  return (await query.executeTakeFirst()) ?? null
}

/** A user's sessions that are neither revoked nor expired at `now`, newest first. */
export async function listLiveSessions(db: Kysely<Database>, userId: string, now: string): Promise<SessionRow[]> {
  return db.selectFrom('session').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null).where('expires_at', '>', now).orderBy('created_at', 'desc').execute()
}

/** The ids of a user's live sessions, oldest first (the session limit revokes from the front). */
export async function liveSessionIdsOldestFirst(db: Kysely<Database>, userId: string, now: string): Promise<string[]> {
  const rows = await db
    .selectFrom('session')
    .select('id')
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .execute()
  return rows.map((row) => row.id)
}

/** The ids of a user's sessions not yet revoked (expired ones included: revoking them is harmless). */
export async function unrevokedSessionIds(db: Kysely<Database>, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('session').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute()
  return rows.map((row) => row.id)
}

/** Records use of a session: it lives on from `now`; `orgId` (when given) rebinds it. */
export async function touchSession(db: Kysely<Database>, sessionId: string, changes: {now: string; expiresAt?: string; orgId?: string | null}): Promise<void> {
  await db
    .updateTable('session')
    .set({last_used_at: changes.now, ...(changes.expiresAt ? {expires_at: changes.expiresAt} : {}), ...(changes.orgId !== undefined ? {org_id: changes.orgId} : {})})
    .where('id', '=', sessionId)
    .execute()
}

/** How many sessions are live at `now`, across all users. */
export async function countLiveSessions(db: Kysely<Database>, now: string): Promise<number> {
  const row = await db.selectFrom('session').select((eb) => eb.fn.countAll<number>().as('count')).where('revoked_at', 'is', null).where('expires_at', '>', now).executeTakeFirstOrThrow()
  return Number(row.count)
}

/** The caller's account with one of their sessions, in one read (GET /v1/auth/me is hot: prepare it once). */
export function callerWithSessionQuery(db: Kysely<Database>, sessionId: string, userId: string) {
  return db
    .selectFrom('session')
    .innerJoin('user_account', 'user_account.id', 'session.user_id')
    .selectAll('user_account')
    .select(['session.id as session_id', 'session.org_id as session_org_id', 'session.user_agent as session_user_agent', 'session.ip as session_ip', 'session.created_at as session_created_at', 'session.last_used_at as session_last_used_at', 'session.expires_at as session_expires_at', 'session.revoked_at as session_revoked_at'])
    .where('session.id', '=', sessionId)
    .where('session.user_id', '=', userId)
}

/** Deletes every session of a user with their refresh tokens (the user is being deleted); returns how many sessions. */
export async function deleteSessionsOfUser(db: Kysely<Database>, userId: string): Promise<number> {
  const sessionIds = db.selectFrom('session').select('id').where('user_id', '=', userId)
  await db.deleteFrom('refresh_token').where('session_id', 'in', sessionIds).execute()
  const deleted = await db.deleteFrom('session').where('user_id', '=', userId).executeTakeFirst()
  return Number(deleted.numDeletedRows)
}
