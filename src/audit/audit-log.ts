import {sql, type Kysely} from 'kysely'
import type {AuditEventRow, Database} from '../db/database.js'
import {lockAuditChain} from '../db/dialect-helpers.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {requireOrgPermission} from '../access/org-access.js'
import type {Actor} from '../access/principal.js'
import {validateInput} from '../shared/validate.js'
import {orgRefInputSchema} from '../tenancy/org-schemas.js'
import {auditActorOf} from './actor.js'
import type {AuditAction} from './audit-actions.js'
import {computeEventHash, GENESIS_HASH} from './audit-hash.js'
import {orgAuditQuerySchema, type OrgAuditQuery} from './audit-schemas.js'
import {parseSince} from './parse-since.js'

export interface AuditEntry {
  action: AuditAction
  orgId?: string | null
  target?: {type: string; id: string} | null
  /** What changed; plain JSON. Never secrets. */
  metadata?: Record<string, unknown>
}

export interface AuditEvent {
  seq: number
  id: string
  action: string
  orgId: string | null
  actor: {type: string; id: string | null; name: string | null}
  target: {type: string; id: string | null} | null
  metadata: Record<string, unknown>
  ip: string | null
  userAgent: string | null
  requestId: string | null
  createdAt: string
}

export interface AuditFilter {
  orgId?: string
  /** Matches the actor's id or name. */
  actor?: string
  /** An exact action (`org.created`) or a prefix ending in `.*` (`org.*`). */
  action?: string
  /** ISO time: only events at or after it. */
  since?: string
  /** Only events after this position in the chain (for following). */
  afterSeq?: number
  /** Only events up to this position. */
  throughSeq?: number
}

export type ChainVerification = {isIntact: true; checkedEvents: number} | {isIntact: false; checkedEvents: number; brokenAt: {seq: number; id: string; reason: string}}

export type AuditLog = ReturnType<typeof createAuditLog>

/**
 * Runs inside the transaction of every append, after the event is written: what must exist
 * exactly when the event does (webhook deliveries, the signed chain head) is written here.
 * A hook that throws rolls back the change with its event.
 */
export type AuditAppendHook = (trx: Kysely<Database>, event: AuditEvent & {hash: string}) => Promise<void>

/** The append-only, hash-chained audit log. */
export function createAuditLog(deps: ServiceDeps) {
  const appendHooks: AuditAppendHook[] = []
  return {
    /** Features add what an append writes beside the event (createCore calls it, in order). */
    onAppend(hook: AuditAppendHook): void {
      appendHooks.push(hook)
    },

    /**
     * Appends one event inside the caller's transaction, so the event exists exactly when the
     * change it records does. Takes the chain lock until that transaction ends.
     */
    async append(trx: Kysely<Database>, actor: Actor, entry: AuditEntry): Promise<void> {
      await lockAuditChain(trx)
      const last = await trx.selectFrom('audit_event').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst()
      const recorded = auditActorOf(actor)
      const event = {
        seq: (last?.seq ?? 0) + 1,
        id: deps.newId(),
        action: entry.action,
        org_id: entry.orgId ?? null,
        actor_type: recorded.type,
        actor_id: recorded.id,
        actor_name: recorded.name,
        target_type: entry.target?.type ?? null,
        target_id: entry.target?.id ?? null,
        metadata: JSON.stringify(entry.metadata ?? {}),
        ip: recorded.ip,
        user_agent: recorded.userAgent,
        request_id: recorded.requestId,
        created_at: nowIso(deps),
        prev_hash: last?.hash ?? GENESIS_HASH,
      }
      const stored = {...event, hash: computeEventHash(event)}
      await trx.insertInto('audit_event').values(stored).execute()
      if (appendHooks.length === 0) return
      const appended = {...toAuditEvent(stored), hash: stored.hash}
      for (const hook of appendHooks) await hook(trx, appended)
    },

    /** The newest `limit` events matching the filter, oldest first (as `tail` prints them). */
    async listEvents(filter: AuditFilter, limit: number): Promise<AuditEvent[]> {
      const rows = await filteredQuery(deps.db, filter).orderBy('seq', 'desc').limit(limit).execute()
      return rows.reverse().map(toAuditEvent)
    },

    /** Events after `filter.afterSeq`, oldest first: what a follower has not seen yet. */
    async listEventsAfter(filter: AuditFilter & {afterSeq: number}, limit = 500): Promise<AuditEvent[]> {
      const rows = await filteredQuery(deps.db, filter).orderBy('seq', 'asc').limit(limit).execute()
      return rows.map(toAuditEvent)
    },

    /**
     * One organization's events (audit.read), newest first, a page at a time: `cursor` is the
     * seq of the last event of the previous page. Reads the (org_id, seq) index backwards from
     * the cursor, so a page costs the same deep in a large log. Raises org.not_found,
     * permission.denied, auth.org_mismatch, validation.failed.
     */
    async listOrgEvents(actor: Actor, input: {org: string} & OrgAuditQuery): Promise<{items: AuditEvent[]; nextCursor: string | null}> {
      const {org: ref, ...query} = input
      const {org: orgRef} = validateInput(orgRefInputSchema, {org: ref})
      const parsed = validateInput(orgAuditQuerySchema, query)
      const since = parsed.since === undefined ? undefined : parseSince(parsed.since, deps.clock.now())
      const {org} = await requireOrgPermission(deps.db, actor, orgRef, 'audit.read', {deleted: 'operators'})
      let page = filteredQuery(deps.db, {orgId: org.id, action: parsed.action, actor: parsed.actor, since})
      if (parsed.cursor !== undefined) page = page.where('seq', '<', Number(parsed.cursor))
      const rows = await page.orderBy('seq', 'desc').limit(parsed.limit + 1).execute()
      const items = rows.slice(0, parsed.limit).map(toAuditEvent)
      return {items, nextCursor: rows.length > parsed.limit ? String(items.at(-1)!.seq) : null}
    },

    /** The position of the newest event (0 when the log is empty). */
    async latestSeq(): Promise<number> {
      const last = await deps.db.selectFrom('audit_event').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst()
      return last?.seq ?? 0
    },

    /**
     * Walks the chain from the first event: each event must follow the previous one without a
     * gap, name its hash, and hash to what it stores. Reports the first event that does not.
     */
    async verifyChain(batchSize = 1000): Promise<ChainVerification> {
      let previous = {seq: 0, hash: GENESIS_HASH}
      let checkedEvents = 0
      for (;;) {
        const rows = await deps.db.selectFrom('audit_event').selectAll().where('seq', '>', previous.seq).orderBy('seq', 'asc').limit(batchSize).execute()
        if (rows.length === 0) return {isIntact: true, checkedEvents}
        for (const row of rows) {
          const reason = findChainProblem(row, previous)
          if (reason) return {isIntact: false, checkedEvents, brokenAt: {seq: row.seq, id: row.id, reason}}
          previous = {seq: row.seq, hash: row.hash}
          checkedEvents += 1
        }
      }
    },
  }
}

function findChainProblem(row: AuditEventRow, previous: {seq: number; hash: string}): string | null {
  if (row.seq !== previous.seq + 1) return `events ${previous.seq + 1}–${row.seq - 1} are missing before it`
  if (row.prev_hash !== previous.hash) return 'its prev_hash does not match the previous event'
  if (computeEventHash(row) !== row.hash) return 'its content does not match its hash'
  return null
}

// What a listed event shows: not the chain's hashes, which only verifyChain reads.
const LISTED_COLUMNS = ['seq', 'id', 'action', 'org_id', 'actor_type', 'actor_id', 'actor_name', 'target_type', 'target_id', 'metadata', 'ip', 'user_agent', 'request_id', 'created_at'] as const

function filteredQuery(db: Kysely<Database>, filter: AuditFilter) {
  let query = db.selectFrom('audit_event').select(LISTED_COLUMNS)
  if (filter.orgId) query = query.where('org_id', '=', filter.orgId)
  if (filter.actor) {
    const actor = filter.actor
    query = query.where((eb) => eb.or([eb('actor_id', '=', actor), eb('actor_name', '=', actor)]))
  }
  if (filter.action?.endsWith('.*')) {
    // substr, not LIKE: LIKE ignores case in SQLite but not in Postgres.
    const prefix = filter.action.slice(0, -1)
    query = query.where(sql<string>`substr(action, 1, ${prefix.length})`, '=', prefix)
  } else if (filter.action) query = query.where('action', '=', filter.action)
  // Timestamps are stored as canonical ISO strings; normalize so SQLite's text comparison agrees with Postgres.
  if (filter.since) query = query.where('created_at', '>=', new Date(filter.since).toISOString())
  if (filter.afterSeq !== undefined) query = query.where('seq', '>', filter.afterSeq)
  if (filter.throughSeq !== undefined) query = query.where('seq', '<=', filter.throughSeq)
  return query
}

function toAuditEvent(row: Omit<AuditEventRow, 'hash' | 'prev_hash'>): AuditEvent {
  return {
    seq: row.seq,
    id: row.id,
    action: row.action,
    orgId: row.org_id,
    actor: {type: row.actor_type, id: row.actor_id, name: row.actor_name},
    target: row.target_type ? {type: row.target_type, id: row.target_id} : null,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    createdAt: row.created_at,
  }
}
