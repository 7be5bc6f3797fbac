import type {SessionRow} from '../db/database.js'

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
