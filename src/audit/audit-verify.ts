import type {Kysely} from 'kysely'
import type {AuditEventRow, Database} from '../db/database.js'
import {computeEventHash, GENESIS_HASH} from './audit-hash.js'
import {readCheckpoint, type ChainPoint, type CheckpointSigner} from './audit-checkpoint.js'

/**
 * What `audit verify` can find. `chain_broken`: an event changed, removed from the middle, or
 * out of place. `events_cut`: the signed head names an event the chain no longer ends with
 * (events removed from the end, or the end replaced). `checkpoint_invalid`: a checkpoint whose
 * MAC does not verify under the secret key (forged, or edited). `checkpoint_missing`: events
 * and no signed head. `head_not_found`: a head kept elsewhere (`--head`) that the chain lacks.
 * `unsigned_events`: more events after the signed head than the checkpoint interval explains,
 * where every append has the key (SQLite): appended without signing, i.e. not by saas-ctl.
 */
export type VerificationProblemKind = 'chain_broken' | 'events_cut' | 'checkpoint_invalid' | 'checkpoint_missing' | 'head_not_found' | 'unsigned_events'

export interface VerificationProblem {
  kind: VerificationProblemKind
  message: string
  /** The event (or checkpoint position) it concerns, when there is one. */
  seq: number | null
  id: string | null
}

/** A head kept outside the database: `<seq>:<hash>` or just the hash. */
export interface ExpectedHead {
  seq: number | null
  hash: string
}

export interface AuditVerification {
  isIntact: boolean
  /** Events whose hashes were recomputed (those after the pruned prefix). */
  checkedEvents: number
  /** Events retention removed: the chain starts after them, from their signed checkpoint. */
  prunedEvents: number
  /** The newest event of the chain as walked: keep it elsewhere to check against with `--head`. */
  head: ChainPoint | null
  /** The signed head checkpoint the chain was checked against. */
  checkpoint: (ChainPoint & {createdAt: string}) | null
  /**
   * Events after the signed head that no signature covers: a cut of them would not be seen.
   * With audit_checkpoint_interval N up to N−1 is normal; on Postgres also the events of a CLI
   * without secret_key, until the next append with the key. See `unsigned_events`.
   */
  unsignedEvents: number
  /** `found`: the chain holds it; `pruned`: it lies in the pruned prefix, so it cannot be checked. */
  expectedHead: (ExpectedHead & {status: 'found' | 'pruned'}) | null
  problem: VerificationProblem | null
}

export type ChainVerification = {isIntact: true; checkedEvents: number} | {isIntact: false; checkedEvents: number; brokenAt: {seq: number; id: string; reason: string}}

/**
 * Walks the chain from its start — the signed checkpoint of the pruned prefix, or the genesis
 * hash — in batches of seq, checking each event against the one before it. Calls `visit` with
 * every event that passed. Returns the first problem, or null.
 */
export async function walkChain(db: Kysely<Database>, start: ChainPoint, batchSize: number, visit: (row: AuditEventRow) => void): Promise<{checkedEvents: number; last: ChainPoint; brokenAt: {seq: number; id: string; reason: string} | null}> {
  let previous = start
  let checkedEvents = 0
  for (;;) {
    const rows = await db.selectFrom('audit_event').selectAll().where('seq', '>', previous.seq).orderBy('seq', 'asc').limit(batchSize).execute()
    if (rows.length === 0) return {checkedEvents, last: previous, brokenAt: null}
    for (const raw of rows) {
      const row = {...raw, seq: Number(raw.seq)}
      const reason = findChainProblem(row, previous)
      if (reason) return {checkedEvents, last: previous, brokenAt: {seq: row.seq, id: row.id, reason}}
      visit(row)
      previous = {seq: row.seq, hash: row.hash}
      checkedEvents += 1
    }
  }
}

/** Why an event does not follow `previous` in the chain, or null when it does. */
export function findChainProblem(row: AuditEventRow, previous: ChainPoint): string | null {
  if (row.seq !== previous.seq + 1) return `events ${previous.seq + 1}–${row.seq - 1} are missing before it`
  if (row.prev_hash !== previous.hash) return 'its prev_hash does not match the previous event'
  if (computeEventHash(row) !== row.hash) return 'its content does not match its hash'
  return null
}

/** How to go on after a reported cut (see the README's recovery). */
const CUT_HINT = '. Once investigated (restore the events from a backup or export if you can), `saas-ctl audit sign-head --accept-cut` signs the chain as it now ends, so later cuts are seen again'

export const GENESIS: ChainPoint = {seq: 0, hash: GENESIS_HASH}

/**
 * The whole check of `audit verify`: the signed checkpoints, the chain from the pruned prefix
 * (or genesis) to its end, the chain's end against the signed head, and optionally a head kept
 * elsewhere. Reads the checkpoints first: an event committed after that read only lengthens the
 * chain. A prune committing during the walk can make the walk miss its start; the caller
 * retries once when the pruned checkpoint moved.
 */
export interface VerifyAuditLogOptions {
  expectedHead?: ExpectedHead
  batchSize: number
  /** Check the chain (and a head kept elsewhere) only, as if there were no head checkpoint: `audit sign-head` before it signs. */
  ignoreHead?: boolean
  /** audit_checkpoint_interval: how many events after the signed head are normal. */
  interval?: number
  /**
   * Whether every append signs (it has the key): then more unsigned events than the interval
   * explains are a problem (`unsigned_events`). False on Postgres, where a CLI without
   * secret_key appends unsigned events legitimately: there they are only counted.
   */
  isEveryAppendSigned?: boolean
}

export async function verifyAuditLog(db: Kysely<Database>, signer: CheckpointSigner, options: VerifyAuditLogOptions): Promise<AuditVerification> {
  const pruned = await readCheckpoint(db, 'pruned')
  const head = options.ignoreHead ? null : await readCheckpoint(db, 'head')
  const result: AuditVerification = {
    isIntact: false,
    checkedEvents: 0,
    prunedEvents: 0,
    head: null,
    checkpoint: head ? {seq: head.seq, hash: head.hash, createdAt: head.created_at} : null,
    expectedHead: null,
    unsignedEvents: 0,
    problem: null,
  }
  const fail = (kind: VerificationProblemKind, message: string, seq: number | null = null, id: string | null = null): AuditVerification => ({...result, isIntact: false, problem: {kind, message, seq, id}})

  if (pruned && !signer.isAuthentic(pruned)) return fail('checkpoint_invalid', `The checkpoint of the pruned prefix (#${pruned.seq}) does not carry a valid signature: it was forged or edited`, pruned.seq)
  if (head && !signer.isAuthentic(head)) return fail('checkpoint_invalid', `The head checkpoint (#${head.seq}) does not carry a valid signature: it was forged or edited`, head.seq)
  const start = pruned ? {seq: pruned.seq, hash: pruned.hash} : GENESIS
  result.prunedEvents = start.seq
  if (head && head.seq < start.seq) return fail('checkpoint_invalid', `The head checkpoint (#${head.seq}) is older than the pruned prefix (#${start.seq}): an older checkpoint was put back`, head.seq)

  const expected = options.expectedHead
  let isExpectedFound = expected !== undefined && expected.hash === start.hash && (expected.seq === null || expected.seq === start.seq)
  let headMismatch: AuditEventRow | null = null
  const walked = await walkChain(db, start, options.batchSize, (row) => {
    if (head && row.seq === head.seq && row.hash !== head.hash) headMismatch ??= row
    if (expected && row.hash === expected.hash && (expected.seq === null || expected.seq === row.seq)) isExpectedFound = true
  })
  result.checkedEvents = walked.checkedEvents
  result.head = walked.last.seq === 0 ? null : walked.last
  if (walked.brokenAt) {
    const {seq, id, reason} = walked.brokenAt
    return fail('chain_broken', `Audit chain broken at event ${id} (#${seq}): ${reason}`, seq, id)
  }
  const last = walked.last
  if (!head) {
    if (last.seq > 0 && !options.ignoreHead) {
      return fail(
        'checkpoint_missing',
        `There is no signed head checkpoint, so events cut from the end (or the chain rewritten) cannot be ruled out, and appends do not create one. Find out why (a database from before checkpoints has none; otherwise it was deleted), check the chain (and a head kept elsewhere with --head), then sign its current end with \`saas-ctl audit sign-head\``,
      )
    }
  } else if (headMismatch !== null) {
    const row = headMismatch as AuditEventRow
    return fail('events_cut', `Events cut from the end: the signed head is #${head.seq} with hash ${head.hash}, but event #${head.seq} now has hash ${row.hash} (the end of the chain was replaced)${CUT_HINT}`, head.seq, row.id)
  } else if (last.seq < head.seq) {
    return fail('events_cut', `Events cut from the end: the signed head is #${head.seq} with hash ${head.hash}, but the chain ends at #${last.seq}${CUT_HINT}`, head.seq)
  } else if (last.seq === head.seq && last.hash !== head.hash) {
    return fail('events_cut', `Events cut from the end: the signed head #${head.seq} has hash ${head.hash}, the chain's #${last.seq} has ${last.hash}${CUT_HINT}`, head.seq)
  }
  if (head && last.seq > head.seq) {
    // Events committed after the head was read lengthen the chain: their appends may have moved the head meanwhile.
    const headNow = await readCheckpoint(db, 'head')
    const signedThrough = headNow && headNow.seq > head.seq && signer.isAuthentic(headNow) ? headNow.seq : head.seq
    result.unsignedEvents = Math.max(0, last.seq - signedThrough)
    const interval = options.interval ?? 1
    if (options.isEveryAppendSigned && result.unsignedEvents >= interval) {
      return fail(
        'unsigned_events',
        `${result.unsignedEvents} event(s) after the signed head #${signedThrough} are not covered by a signature, more than audit_checkpoint_interval ${interval} leaves unsigned: they were appended without signing (not by saas-ctl), or the interval was lowered since (the next change signs them then). Once checked, \`saas-ctl audit sign-head\` signs them`,
        signedThrough + 1,
      )
    }
  }
  if (expected) {
    if (expected.seq !== null && expected.seq < start.seq) result.expectedHead = {...expected, status: 'pruned'}
    else if (isExpectedFound) result.expectedHead = {...expected, status: 'found'}
    else {
      const label = expected.seq === null ? expected.hash : `#${expected.seq} with hash ${expected.hash}`
      return fail('head_not_found', `The chain does not hold the head ${label}: events were cut or replaced since it was taken`, expected.seq)
    }
  }
  return {...result, isIntact: true}
}
