import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import type {Clock} from '../security/clock.js'
import type {RevocationCache} from './revocation-cache.js'
import {loadActiveRevocations, readRevocationsAfter} from './revocation-log.js'

const CACHE_PRUNE_INTERVAL_MS = 60_000

export interface RevocationFollowerOptions {
  db: Kysely<Database>
  cache: RevocationCache
  clock: Clock
  pollMilliseconds: number
  /** Called when a poll fails (the database is briefly away); following goes on. */
  onError?: (error: unknown) => void
}

export type RevocationFollower = Awaited<ReturnType<typeof startRevocationFollower>>

/**
 * Loads every active revocation into the cache, then polls the log by position so that a
 * revocation written by any process reaches this one within one poll interval.
 */
export async function startRevocationFollower(options: RevocationFollowerOptions) {
  const {db, cache, clock} = options
  const initial = await loadActiveRevocations(db, clock.now().toISOString())
  cache.apply(initial.entries)
  let appliedSeq = initial.latestSeq
  let running: Promise<void> | null = null

  async function catchUp(): Promise<void> {
    for (;;) {
      const entries = await readRevocationsAfter(db, appliedSeq)
      if (entries.length === 0) return
      cache.apply(entries)
      appliedSeq = entries.at(-1)!.seq
    }
  }

  /** Applies everything written so far; concurrent callers share one read. */
  function syncNow(): Promise<void> {
    running ??= catchUp().finally(() => {
      running = null
    })
    return running
  }

  const timer = setInterval(() => {
    syncNow().catch((error) => options.onError?.(error))
  }, options.pollMilliseconds)
  timer.unref()
  // Entries outlive nothing they block: drop them once their tokens have expired.
  const pruneTimer = setInterval(() => cache.prune(), CACHE_PRUNE_INTERVAL_MS)
  pruneTimer.unref()

  return {
    syncNow,
    appliedSeq: () => appliedSeq,
    async stop(): Promise<void> {
      clearInterval(timer)
      clearInterval(pruneTimer)
      await running?.catch(() => {})
    },
  }
}
