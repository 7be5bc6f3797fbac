import type {Kysely} from 'kysely'
import {SYSTEM_ACTOR, type Actor} from '../access/principal.js'
import type {Database} from '../db/database.js'
import {lockAuditChain} from '../db/dialect-helpers.js'
import {DomainError} from '../errors/domain-error.js'
import type {JobDefinition} from '../jobs/job-service.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import type {AuditEntry} from './audit-log.js'
import {readCheckpoint, writeCheckpoint, type CheckpointSigner} from './audit-checkpoint.js'
import {findChainProblem, GENESIS} from './audit-verify.js'

/** Events deleted per transaction: the chain lock (every audited change waits for it) is held this long. */
export const PRUNE_BATCH_SIZE = 5_000

export interface AuditRetentionDeps extends ServiceDeps {
  signer: CheckpointSigner
  /** audit_retention_days; undefined keeps events forever. */
  retentionDays: number | undefined
  append(trx: Kysely<Database>, actor: Actor, entry: AuditEntry): Promise<void>
  batchSize?: number
}

/**
 * The job that applies audit_retention_days: deletes the oldest events, a prefix of the chain,
 * in batches. Each batch is one transaction under the chain lock that checks the events it
 * deletes still chain from the previous checkpoint (so pruning cannot launder a tampered
 * event), deletes them, signs a checkpoint of the last one deleted (seq and hash), from which
 * verification then starts, and appends `audit.pruned`. The newest event and the event of
 * the signed head are never pruned, so the chain keeps an end to check the head against.
 * Raises audit.chain_broken (nothing pruned) when a batch does not chain.
 */
export function auditRetentionJob(deps: AuditRetentionDeps): JobDefinition {
  return {
    name: 'purge-audit-events',
    description: 'Delete audit events older than audit_retention_days (unset: none), keeping the rest verifiable from a signed checkpoint of the pruned prefix',
    run: async () => ({events_pruned: await pruneExpiredEvents(deps)}),
  }
}

export async function pruneExpiredEvents(deps: AuditRetentionDeps): Promise<number> {
  if (deps.retentionDays === undefined) return 0
  deps.signer.requireKey()
  const cutoff = new Date(deps.clock.now().getTime() - deps.retentionDays * 86_400_000)
  const batchSize = deps.batchSize ?? PRUNE_BATCH_SIZE
  let total = 0
  for (;;) {
    const pruned = await deps.db.transaction().execute((trx) => pruneBatch(trx, deps, cutoff, batchSize))
    total += pruned
    if (pruned < batchSize) return total
  }
}

async function pruneBatch(trx: Kysely<Database>, deps: AuditRetentionDeps, cutoff: Date, batchSize: number): Promise<number> {
  await lockAuditChain(trx)
  const anchor = await readCheckpoint(trx, 'pruned')
  if (anchor && !deps.signer.isAuthentic(anchor)) throw new DomainError('audit.checkpoint_invalid', `The checkpoint of the pruned prefix (#${anchor.seq}) does not carry a valid signature; nothing was pruned`)
  const start = anchor ? {seq: anchor.seq, hash: anchor.hash} : GENESIS
  const newest = await trx.selectFrom('audit_event').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst()
  if (!newest) return 0
  const head = await readCheckpoint(trx, 'head')
  const keepFrom = Math.min(Number(newest.seq), head && head.seq > start.seq ? head.seq : Number.POSITIVE_INFINITY)
  const rows = await trx.selectFrom('audit_event').selectAll().where('seq', '>', start.seq).where('seq', '<', keepFrom).orderBy('seq', 'asc').limit(batchSize).execute()
  let previous = start
  let count = 0
  for (const raw of rows) {
    const row = {...raw, seq: Number(raw.seq)}
    // A prefix: the first event young enough to keep ends it (clocks of several hosts may disagree a little).
    if (new Date(row.created_at).getTime() >= cutoff.getTime()) break
    const problem = findChainProblem(row, previous)
    if (problem) throw new DomainError('audit.chain_broken', `Audit chain broken at event ${row.id} (#${row.seq}): ${problem}; nothing was pruned`, {event_id: row.id, seq: row.seq})
    previous = {seq: row.seq, hash: row.hash}
    count += 1
  }
  if (count === 0) return 0
  await trx.deleteFrom('audit_event').where('seq', '>', start.seq).where('seq', '<=', previous.seq).execute()
  await writeCheckpoint(trx, deps.signer, 'pruned', previous, nowIso(deps))
  await deps.append(trx, SYSTEM_ACTOR, {
    action: 'audit.pruned',
    metadata: {events: count, from_seq: start.seq + 1, through_seq: previous.seq, older_than: cutoff.toISOString(), retention_days: deps.retentionDays},
  })
  return count
}
