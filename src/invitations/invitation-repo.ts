import {sql, type Kysely} from 'kysely'
import type {Database, InvitationRow} from '../db/database.js'
import {sharedQuery} from '../db/prepared-query.js'
import {hashToken} from '../security/secure-token.js'

/** An invitation as services hand it out: never the token or its hash. */
export interface Invitation {
  id: string
  orgId: string
  email: string
  /** The role's key. */
  role: string
  /** pending past its expiry reads 'expired' (the server's clock decides). */
  status: 'pending' | 'accepted' | 'revoked' | 'expired'
  invitedBy: {type: string; id: string | null; name: string | null}
  createdAt: string
  expiresAt: string
  sentAt: string
  resendCount: number
  acceptedAt: string | null
  acceptedUserId: string | null
  revokedAt: string | null
}

export type InvitationWithRole = InvitationRow & {role_key: string | null}

/** Pending and not expired at `now`. */
export function isLive(row: Pick<InvitationRow, 'status' | 'expires_at'>, now: string): boolean {
  return row.status === 'pending' && Date.parse(row.expires_at) > Date.parse(now)
}

export function toInvitation(row: InvitationWithRole, now: string): Invitation {
  const status = row.status === 'pending' && !isLive(row, now) ? 'expired' : row.status
  return {
    id: row.id,
    orgId: row.org_id,
    email: row.email,
    role: row.role_key ?? '(deleted role)',
    status,
    invitedBy: {type: row.invited_by_type, id: row.invited_by_id, name: row.invited_by_name},
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    sentAt: row.sent_at,
    resendCount: Number(row.resend_count),
    acceptedAt: row.accepted_at,
    acceptedUserId: row.accepted_user_id,
    revokedAt: row.revoked_at,
  }
}

const withRole = (db: Kysely<Database>) => db.selectFrom('invitation').leftJoin('role', 'role.id', 'invitation.role_id').selectAll('invitation').select('role.key as role_key')

/** An invitation by id, only within `orgId` when given; null when there is none. */
export async function findInvitation(db: Kysely<Database>, id: string, orgId?: string): Promise<InvitationWithRole | null> {
  let query = withRole(db).where('invitation.id', '=', id)
  if (orgId !== undefined) query = query.where('invitation.org_id', '=', orgId)
  return (await query.executeTakeFirst()) ?? null
}

/** The invitation whose link carries `token` (compared by its SHA-256); null when none. */
export async function findInvitationByToken(db: Kysely<Database>, token: string): Promise<InvitationWithRole | null> {
  return (await withRole(db).where('invitation.token_hash', '=', hashToken(token)).executeTakeFirst()) ?? null
}

/** The pending invitation of an address in an organization (live or past its expiry); null when none. */
export async function findPendingInvitationOf(db: Kysely<Database>, orgId: string, email: string): Promise<InvitationRow | null> {
  return (await selectPendingInvitationOf(db, orgId, email)).rows[0] ?? null
}

// Compiled once (sharedQuery): every member add runs it (an add uses up the added user's invitation).
// 'pending' is written in the SQL, not bound: with a bound status SQLite must consider the partial
// index on pending invitations anew, and prepares the statement again on every run.
const selectPendingInvitationOf = sharedQuery(2, (db, orgId: string, email: string) =>
  (db as Kysely<Database>).selectFrom('invitation').selectAll().where('org_id', '=', orgId).where('email', '=', email).where('status', '=', sql.lit('pending')),
)

/** The organization's pending invitations not yet expired, oldest first. */
export async function listLiveInvitations(db: Kysely<Database>, orgId: string, now: string): Promise<InvitationWithRole[]> {
  return withRole(db)
    .where('invitation.org_id', '=', orgId)
    .where('invitation.status', '=', 'pending')
    .where('invitation.expires_at', '>', now)
    .orderBy('invitation.created_at')
    .orderBy('invitation.id')
    .execute()
}
