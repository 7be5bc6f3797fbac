import type {Kysely} from 'kysely'
import type {Database, RevocationRow} from '../db/database.js'
import {lockRevocationLog} from '../db/dialect-helpers.js'

/**
 * 'token' (jti), 'session' (session id), 'user' (user id, with notBefore), and the org-scoped
 * ones: 'membership' (`<org id>:<user id>`, with notBefore: a demotion or removal voids the
 * user's tokens bound to that org) and 'org' (org id, with notBefore: a deleted org voids every
 * token bound to it), and 'key' (a signing key's kid: `keys revoke`, every token it signed is void).
 */
export type RevocationKind = 'token' | 'session' | 'user' | 'membership' | 'org' | 'key'

export interface Revocation {
  seq: number
  kind: RevocationKind
  /** The jti, session id, user id, `<org id>:<user id>`, org id or kid. */
  subject: string
  /** For 'user', 'membership' and 'org': tokens issued before this time are void. */
  notBefore: string | null
  reason: string
  expiresAt: string
}

export interface NewRevocation {
  kind: RevocationKind
  subject: string
  notBefore?: string | null
  reason: string
  createdAt: string
  expiresAt: string
}

/**
 * Appends to the ordered revocation log inside the caller's transaction. The log is the source
 * of truth every daemon follows, so a revocation made anywhere (CLI, another daemon) reaches
 * all of them. Positions are assigned under a lock, so they commit in order.
 */
export async function appendRevocations(trx: Kysely<Database>, entries: NewRevocation[]): Promise<void> {
  if (entries.length === 0) return
  await lockRevocationLog(trx)
  const last = await trx.selectFrom('revocation').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst()
  const firstSeq = (last?.seq ?? 0) + 1
  await trx
    .insertInto('revocation')
    .values(
      entries.map((entry, index) => ({
        seq: firstSeq + index,
        kind: entry.kind,
        subject: entry.subject,
        not_before: entry.notBefore ?? null,
        reason: entry.reason,
        created_at: entry.createdAt,
        expires_at: entry.expiresAt,
      })),
    )
    .execute()
}

/** Whether an entry of this kind names this subject and still blocks something at `nowIso`. */
export async function hasActiveRevocation(db: Kysely<Database>, kind: RevocationKind, subject: string, nowIso: string): Promise<boolean> {
  const row = await db.selectFrom('revocation').select('seq').where('kind', '=', kind).where('subject', '=', subject).where('expires_at', '>', nowIso).limit(1).executeTakeFirst()
  return row !== undefined
}

/** Entries after `afterSeq`, in order: what a follower has not applied yet. */
export async function readRevocationsAfter(db: Kysely<Database>, afterSeq: number, limit = 1000): Promise<Revocation[]> {
  const rows = await db.selectFrom('revocation').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute()
  return rows.map(toRevocation)
}

/** Every entry that still blocks something at `nowIso`, and the newest position. */
export async function loadActiveRevocations(db: Kysely<Database>, nowIso: string): Promise<{entries: Revocation[]; latestSeq: number}> {
  const latest = await db.selectFrom('revocation').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst()
  const latestSeq = latest?.seq ?? 0
  const rows = await db.selectFrom('revocation').selectAll().where('expires_at', '>', nowIso).where('seq', '<=', latestSeq).orderBy('seq').execute()
  return {entries: rows.map(toRevocation), latestSeq}
}

/**
 * Deletes entries whose tokens have all expired. The newest entry is always kept, so its
 * position survives and followers never see the sequence restart.
 */
export async function purgeExpiredRevocations(db: Kysely<Database>, nowIso: string): Promise<number> {
  const latest = await db.selectFrom('revocation').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst()
  if (!latest) return 0
  const result = await db.deleteFrom('revocation').where('expires_at', '<=', nowIso).where('seq', '<', latest.seq).executeTakeFirst()
  return Number(result.numDeletedRows)
}

function toRevocation(row: RevocationRow): Revocation {
  return {seq: row.seq, kind: row.kind as RevocationKind, subject: row.subject, notBefore: row.not_before, reason: row.reason, expiresAt: row.expires_at}
}
