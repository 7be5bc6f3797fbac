import {setTimeout as sleep} from 'node:timers/promises'
import type {AuditEvent} from './audit-log.js'

export interface FollowEventsOptions {
  /**
   * Reads the events after a seq, oldest first, at most `limit`: the caller's own check of
   * who may still read them runs here, on every poll, and a refusal it throws ends the follow.
   */
  read(afterSeq: number, limit: number): Promise<AuditEvent[]>
  afterSeq: number
  /** How often the database is asked for new events (the events of other processes too). */
  pollMilliseconds: number
  batchSize?: number
  signal: AbortSignal
}

/**
 * Follows the log from a position: yields each batch of newer events, oldest first, then waits
 * and asks again, until the signal aborts. Polls the database, so events appended by other
 * daemons and by the CLI appear as well; every event is yielded once, in seq order (seqs are
 * given out under the chain lock, so a smaller seq never commits after a larger one is read).
 * A full batch is followed at once by the next, so a follower far behind catches up.
 */
export async function* followEvents(options: FollowEventsOptions): AsyncGenerator<AuditEvent[]> {
  const batchSize = options.batchSize ?? 500
  let afterSeq = options.afterSeq
  while (!options.signal.aborted) {
    const batch = await options.read(afterSeq, batchSize)
    if (options.signal.aborted) return
    if (batch.length > 0) {
      yield batch
      afterSeq = batch.at(-1)!.seq
    }
    if (batch.length >= batchSize) continue
    try {
      await sleep(options.pollMilliseconds, undefined, {signal: options.signal})
    } catch {
      return
    }
  }
}
