import {sql, type Kysely} from 'kysely'
import type {AuditEventRow, Database} from '../db/database.js'
import {dialectOf, lockAuditChain} from '../db/dialect-helpers.js'
import {sharedQuery} from '../db/prepared-query.js'
import {DomainError} from '../errors/domain-error.js'
import type {ErrorCode} from '../errors/error-codes.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {requireOrgPermission} from '../access/org-access.js'
import type {Actor} from '../access/principal.js'
import type {SecretKeySource} from '../security/secret-key.js'
import {validateInput} from '../shared/validate.js'
import {orgRefInputSchema} from '../tenancy/org-schemas.js'
import {auditActorOf} from './actor.js'
import type {AuditAction} from './audit-actions.js'
import {computeEventHash} from './audit-hash.js'
import {createCheckpointSigner, moveCheckpoint, readCheckpoint, writeCheckpoint, writeFirstCheckpoint, type ChainPoint, type CheckpointSigner} from './audit-checkpoint.js'
import {auditRetentionJob} from './audit-retention.js'
import {orgAuditQuerySchema, orgAuditStreamQuerySchema, type OrgAuditQuery} from './audit-schemas.js'
import {GENESIS, verifyAuditLog, walkChain, type AuditVerification, type ChainVerification, type ExpectedHead, type VerificationProblemKind} from './audit-verify.js'
import {parseSince} from './parse-since.js'

export type {AuditVerification, ChainVerification, ExpectedHead} from './audit-verify.js'

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

export type AuditLog = ReturnType<typeof createAuditLog>

/** The error code of each problem `audit verify` can report. */
export const VERIFICATION_PROBLEM_CODES: Record<VerificationProblemKind, ErrorCode> = {
  chain_broken: 'audit.chain_broken',
  events_cut: 'audit.events_cut',
  checkpoint_invalid: 'audit.checkpoint_invalid',
  checkpoint_missing: 'audit.checkpoint_missing',
  head_not_found: 'audit.head_not_found',
  unsigned_events: 'audit.unsigned_events',
}

/**
 * What `audit sign-head` found before signing: `missing` (no head: deleted, or a database from
 * before checkpoints), `behind` (a valid head the chain holds, with unsigned events after it),
 * `current` (the head already names the chain's end: nothing signed), `cut` / `invalid` (a head
 * the chain no longer holds, or one whose MAC does not verify: only with acceptCut), `empty`
 * (no events: nothing to sign).
 */
export type SignHeadReason = 'missing' | 'behind' | 'current' | 'cut' | 'invalid' | 'empty'

export interface SignedHead {
  reason: SignHeadReason
  /** The chain's end the head now names (before the `audit.head_signed` event that records it); null for an empty log. */
  signed: ChainPoint | null
  /** The head checkpoint found before, whatever it was. */
  previousHead: ChainPoint | null
  /** Events checked from the chain's start (the pruned prefix's checkpoint, or genesis). */
  checkedEvents: number
}

/**
 * Runs inside the transaction of every append, after the event and its signed head are
 * written: what must exist exactly when the event does (webhook deliveries) is written here.
 * A hook that throws rolls back the change with its event.
 */
export type AuditAppendHook = (trx: Kysely<Database>, event: AuditEvent & {hash: string}) => Promise<void>

export interface AuditLogDeps extends ServiceDeps {
  /** Signs the checkpoints; on Postgres without secret_key appends leave the head unsigned, verify and prune refuse. */
  secretKey: SecretKeySource
  /** audit_checkpoint_interval: sign the head of events whose seq is a multiple of N (default 1: every append). */
  checkpointInterval?: number
  /** audit_retention_days: undefined keeps events forever. */
  retentionDays?: number
}

/** The append-only, hash-chained audit log, its signed checkpoints and its retention. */
export function createAuditLog(deps: AuditLogDeps) {
  const appendHooks: AuditAppendHook[] = []
  const signer = createCheckpointSigner(deps.secretKey)
  const checkpointInterval = deps.checkpointInterval ?? 1
  // On SQLite every append has the key (the key file beside the database); on Postgres a CLI without secret_key appends unsigned.
  const isEveryAppendSigned = dialectOf(deps.db) === 'sqlite'
  const log = {
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
      const [newest] = (await selectNewestEvent(trx)).rows
      // After a prune the newest event stays; an empty table continues from the pruned prefix.
      const last: ChainPoint = newest ? {seq: Number(newest.seq), hash: newest.hash} : ((await readCheckpoint(trx, 'pruned')) ?? GENESIS)
      const recorded = auditActorOf(actor)
      const event = {
        seq: last.seq + 1,
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
        prev_hash: last.hash,
      }
      const stored = {...event, hash: computeEventHash(event)}
      await insertEvent(trx, ...EVENT_COLUMNS.map((column) => stored[column]))
      // Without the key (a CLI on Postgres without secret_key) the head stays where it was: the
      // next append that has the key (every daemon has it) signs a head covering these events.
      if (signer.hasKey()) await advanceHeadCheckpoint(trx, signer, checkpointInterval, last, stored, event.created_at)
      if (appendHooks.length === 0) return
      const appended = {...toAuditEvent(stored), hash: stored.hash}
      for (const hook of appendHooks) await hook(trx, appended)
    },

    /**
     * `restore` records itself in the restored database: the operator who replaced it and from
     * which backup, as the newest event of the restored log (the log of the replaced database
     * went with it). The operator at the command line only. Raises permission.denied.
     */
    async recordRestore(actor: Actor, input: {backupFile: string; backupMigrations: number}): Promise<void> {
      if (actor.principal.kind !== 'operator') throw new DomainError('permission.denied', 'Only an operator at the command line restores a database')
      await deps.db.transaction().execute((trx) =>
        log.append(trx, actor, {action: 'database.restored', metadata: {backup_file: input.backupFile, backup_migrations: input.backupMigrations}}),
      )
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

    /**
     * The newest event's seq and hash (after a prune that left none: the pruned prefix's), or
     * null for an empty log: what to keep elsewhere and check with `audit verify --head`.
     */
    async head(): Promise<ChainPoint | null> {
      const newest = await deps.db.selectFrom('audit_event').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst()
      if (newest) return {seq: Number(newest.seq), hash: newest.hash}
      const pruned = await readCheckpoint(deps.db, 'pruned')
      return pruned ? {seq: pruned.seq, hash: pruned.hash} : null
    },

    /** The position of the newest event (0 when the log is empty). */
    async latestSeq(): Promise<number> {
      const last = await deps.db.selectFrom('audit_event').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst()
      return last?.seq ?? 0
    },

    /**
     * Walks the chain from its start (the signed checkpoint of the pruned prefix, else the
     * genesis hash): each event must follow the previous one without a gap, name its hash, and
     * hash to what it stores. Reports the first event that does not. The chain only: `verify`
     * also checks its end against the signed head.
     */
    async verifyChain(batchSize = 1000): Promise<ChainVerification> {
      const pruned = await readCheckpoint(deps.db, 'pruned')
      const start = pruned && signer.isAuthentic(pruned) ? {seq: pruned.seq, hash: pruned.hash} : GENESIS
      const walked = await walkChain(deps.db, start, batchSize, () => {})
      return walked.brokenAt ? {isIntact: false, checkedEvents: walked.checkedEvents, brokenAt: walked.brokenAt} : {isIntact: true, checkedEvents: walked.checkedEvents}
    },

    /**
     * `audit verify`: the signed checkpoints (a MAC under the secret key), the chain from the
     * pruned prefix to its end, that end against the signed head (events cut from the end), and
     * optionally a head kept elsewhere (which also catches an older checkpoint put back).
     * Reports the first problem found. Raises secret_key.required without a key.
     */
    async verify(options: {expectedHead?: ExpectedHead; batchSize?: number} = {}): Promise<AuditVerification> {
      signer.requireKey()
      const batchSize = options.batchSize ?? 1000
      const prunedBefore = await readCheckpoint(deps.db, 'pruned')
      const verifyOptions = {...options, batchSize, interval: checkpointInterval, isEveryAppendSigned}
      const result = await verifyAuditLog(deps.db, signer, verifyOptions)
      if (result.isIntact) return result
      // A prune that committed during the walk moves the chain's start: check again from the new one.
      const prunedAfter = await readCheckpoint(deps.db, 'pruned')
      return prunedAfter?.seq === prunedBefore?.seq ? result : verifyAuditLog(deps.db, signer, verifyOptions)
    },

    /**
     * `audit sign-head`: signs the chain's current end as its head, after checking the chain from
     * its start (and a head kept elsewhere, when given). The one way a head is created while
     * events exist (appends never do): a database upgraded from before checkpoints, a head that
     * was deleted, or — with acceptCut — a head the chain no longer holds (a cut investigated
     * and accepted). The operator at the command line only; audited (`audit.head_signed`, with
     * the head found before). Raises permission.denied, secret_key.required, audit.chain_broken,
     * audit.checkpoint_invalid (the pruned prefix's, or the head's without acceptCut),
     * audit.events_cut (without acceptCut), audit.head_not_found, db.conflict (the chain changed
     * while it was checked: run it again).
     */
    async signHead(actor: Actor, input: {acceptCut?: boolean; expectedHead?: ExpectedHead; batchSize?: number} = {}): Promise<SignedHead> {
      if (actor.principal.kind !== 'operator') throw new DomainError('permission.denied', 'Only an operator at the command line signs the audit head')
      signer.requireKey()
      const batchSize = input.batchSize ?? 1000
      // The whole chain first, outside the chain lock: a long walk under it would hold up every audited change.
      const checked = await verifyAuditLog(deps.db, signer, {expectedHead: input.expectedHead, batchSize, ignoreHead: true})
      if (checked.problem) {
        const {kind, message, seq, id} = checked.problem
        throw new DomainError(VERIFICATION_PROBLEM_CODES[kind], `${message}; nothing was signed`, {...(id === null ? {} : {event_id: id}), seq})
      }
      const checkedTo: ChainPoint = checked.head ?? GENESIS
      return deps.db.transaction().execute(async (trx) => {
        await lockAuditChain(trx)
        // Then, under the lock, only what was appended since: the event checked last must still be there, unchanged.
        const pruned = await readCheckpoint(trx, 'pruned')
        if (pruned && !signer.isAuthentic(pruned)) throw new DomainError('audit.checkpoint_invalid', `The checkpoint of the pruned prefix (#${pruned.seq}) does not carry a valid signature; nothing was signed`, {seq: pruned.seq})
        const hashAt = async (seq: number): Promise<string | undefined> => {
          if (pruned && pruned.seq === seq) return pruned.hash
          if (seq === 0) return GENESIS.hash
          return (await trx.selectFrom('audit_event').select('hash').where('seq', '=', seq).executeTakeFirst())?.hash
        }
        if ((await hashAt(checkedTo.seq)) !== checkedTo.hash) throw new DomainError('db.conflict', 'The audit chain changed while it was checked (pruned, or rewritten); nothing was signed: run the command again')
        const walked = await walkChain(trx, checkedTo, batchSize, () => {})
        if (walked.brokenAt) {
          const {seq, id, reason} = walked.brokenAt
          throw new DomainError('audit.chain_broken', `Audit chain broken at event ${id} (#${seq}): ${reason}; nothing was signed`, {event_id: id, seq})
        }
        const end = walked.last
        const checkedEvents = checked.checkedEvents + walked.checkedEvents
        const head = await readCheckpoint(trx, 'head')
        const previousHead = head ? {seq: head.seq, hash: head.hash} : null
        if (end.seq === 0) return {reason: 'empty', signed: null, previousHead, checkedEvents}
        let reason: SignHeadReason
        if (!head) reason = 'missing'
        else if (!signer.isAuthentic(head)) reason = 'invalid'
        else if (head.seq > end.seq || head.seq < (pruned?.seq ?? 0) || (await hashAt(head.seq)) !== head.hash) reason = 'cut'
        else reason = head.seq === end.seq ? 'current' : 'behind'
        if (reason === 'current') return {reason, signed: end, previousHead, checkedEvents}
        if ((reason === 'cut' || reason === 'invalid') && !input.acceptCut) {
          const code = reason === 'cut' ? 'audit.events_cut' : 'audit.checkpoint_invalid'
          const what = reason === 'cut' ? `The signed head #${head!.seq} (hash ${head!.hash}) is no longer held by the chain, which ends at #${end.seq}: events were cut or replaced` : `The head checkpoint (#${head!.seq}) does not carry a valid signature`
          throw new DomainError(code, `${what}; nothing was signed. Once investigated, --accept-cut signs the chain as it now ends (recorded with the head found)`, {seq: head!.seq, checkpoint: previousHead})
        }
        await writeCheckpoint(trx, signer, 'head', end, nowIso(deps))
        await log.append(trx, actor, {action: 'audit.head_signed', metadata: {seq: end.seq, hash: end.hash, reason, previous_head: previousHead, checked_events: checkedEvents}})
        return {reason, signed: end, previousHead, checkedEvents}
      })
    },

    /**
     * Every event matching the filter, oldest first, a batch at a time: keyset pages by seq,
     * so memory holds one batch whatever the log's size (`audit export`).
     */
    async *iterateEvents(filter: AuditFilter, batchSize = 1000): AsyncGenerator<AuditEvent[]> {
      let afterSeq = filter.afterSeq ?? 0
      for (;;) {
        const rows = await filteredQuery(deps.db, {...filter, afterSeq}).orderBy('seq', 'asc').limit(batchSize).execute()
        if (rows.length === 0) return
        yield rows.map(toAuditEvent)
        if (rows.length < batchSize) return
        afterSeq = rows.at(-1)!.seq
      }
    },

    /**
     * Where a follower of one organization's events starts (audit.read): after `lastEventId`
     * (a seq, as Server-Sent Events resume), else after the newest event. Raises org.not_found,
     * permission.denied, auth.org_mismatch, validation.failed.
     */
    async openOrgStream(actor: Actor, input: {org: string; lastEventId?: string}): Promise<{orgId: string; afterSeq: number}> {
      const {org: orgRef} = validateInput(orgRefInputSchema, {org: input.org})
      const {lastEventId} = validateInput(orgAuditStreamQuerySchema, {lastEventId: input.lastEventId})
      const {org} = await requireOrgPermission(deps.db, actor, orgRef, 'audit.read', {deleted: 'operators'})
      return {orgId: org.id, afterSeq: lastEventId === undefined ? await log.latestSeq() : Number(lastEventId)}
    },

    /**
     * One organization's events after `afterSeq`, oldest first, at most `limit` — read only
     * while the actor still holds audit.read there (checked on every call, so a removed or
     * demoted member stops receiving). Raises what openOrgStream raises.
     */
    async listOrgEventsAfter(actor: Actor, input: {orgId: string; afterSeq: number; limit?: number}): Promise<AuditEvent[]> {
      const {org} = await requireOrgPermission(deps.db, actor, input.orgId, 'audit.read', {deleted: 'operators'})
      const rows = await filteredQuery(deps.db, {orgId: org.id, afterSeq: input.afterSeq}).orderBy('seq', 'asc').limit(input.limit ?? 500).execute()
      return rows.map(toAuditEvent)
    },

    /** Deletes events older than audit_retention_days (see audit-retention.ts); core.jobs runs it. */
    retentionJob: auditRetentionJob({...deps, signer, retentionDays: deps.retentionDays, append: (trx, actor, entry): Promise<void> => log.append(trx, actor, entry)}),
  }
  return log
}

// The two statements of every append besides the checkpoint's, compiled once (sharedQuery): an
// apply of thousands of changes appends as many events, and rebuilding them in Kysely each time
// cost more than running them. The limit is written in the SQL, not bound: SQLite prepares a
// statement with a bound LIMIT again on every run, which cost more than the read itself.
const selectNewestEvent = sharedQuery(0, (db) => db.selectFrom('audit_event').select(['seq', 'hash']).orderBy('seq', 'desc').limit(sql.lit(1)))
const EVENT_COLUMNS = ['seq', 'id', 'action', 'org_id', 'actor_type', 'actor_id', 'actor_name', 'target_type', 'target_id', 'metadata', 'ip', 'user_agent', 'request_id', 'created_at', 'prev_hash', 'hash'] as const satisfies readonly (keyof AuditEventRow)[]
// Every column of the row (a compile error otherwise): the insert writes what the builder would.
const EVENT_COLUMNS_ARE_COMPLETE: [Exclude<keyof AuditEventRow, (typeof EVENT_COLUMNS)[number]>] extends [never] ? true : never = true
const insertEvent = sharedQuery(EVENT_COLUMNS.length, (db, ...values: unknown[]) => db.insertInto('audit_event').values(Object.fromEntries(EVENT_COLUMNS.map((column, index) => [column, values[index]])) as AuditEventRow))

/**
 * Signs the new head when due: on every append (interval 1), else on every seq that is a
 * multiple of the interval. Only the first event of a fresh log (nothing before it: no event,
 * no pruned prefix) creates the head; afterwards an append only ever moves a head it finds
 * signed and held by the chain. A head that is missing while events exist (deleted, or a
 * database from before checkpoints) stays missing — an append recreating it would sign
 * whatever the chain holds now, a cut or a rewrite included — until an operator who checked the
 * chain signs one (`audit sign-head`). A head the chain no longer holds — its event cut or
 * replaced, or the checkpoint forged or put back lower — is likewise left as it is, never
 * overwritten, so `audit verify` keeps reporting it.
 */
async function advanceHeadCheckpoint(trx: Kysely<Database>, signer: CheckpointSigner, interval: number, previous: ChainPoint, appended: ChainPoint, createdAt: string): Promise<void> {
  if (previous.seq === 0) {
    await writeFirstCheckpoint(trx, signer, 'head', appended, createdAt)
    return
  }
  if (interval > 1 && appended.seq % interval !== 0) return
  // The usual case with interval 1: the stored head is the signed checkpoint of the previous event; one statement moves it.
  if (interval === 1 && (await moveCheckpoint(trx, signer, 'head', previous, appended, createdAt))) return
  // Otherwise (an interval, events appended without the key, or something wrong): check it, then move it.
  const head = await readCheckpoint(trx, 'head')
  if (!head || head.seq >= appended.seq || !signer.isAuthentic(head)) return
  const heldHash = head.seq === previous.seq ? previous.hash : (await trx.selectFrom('audit_event').select('hash').where('seq', '=', head.seq).executeTakeFirst())?.hash
  if (heldHash !== head.hash) return
  await writeCheckpoint(trx, signer, 'head', appended, createdAt)
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
