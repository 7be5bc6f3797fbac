import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import type {Clock} from '../security/clock.js'
import {USAGE_WINDOW_MS, type RateLimiter, type UsageCount} from './rate-limiter.js'

/** Rows older than this are deleted by the sync (nobody reads a window after the next one). */
const USAGE_RETENTION_MS = 5 * USAGE_WINDOW_MS
const PURGE_INTERVAL_MS = USAGE_WINDOW_MS
const UPSERT_CHUNK = 200
/** The org_id of a daemon's presence row: written every sync, so the others know how many share the limits. */
const PRESENCE = ''

export interface RateLimitSyncOptions {
  db: Kysely<Database>
  limiter: RateLimiter
  clock: Clock
  /** This daemon's id in the usage table: unique per process. */
  daemonId: string
}

export type RateLimitSync = ReturnType<typeof createRateLimitSync>

/**
 * Shares organizations' request use between daemons on one database, in rate_limit_usage:
 * each daemon writes how many requests of each org it admitted per minute window (its own
 * rows, so no two daemons write one row), reads the others' rows of the current and previous
 * windows, and charges its buckets with what they admitted since its last read. So each
 * daemon's bucket of an org is the org's bucket, late by at most one sync interval.
 *
 * A daemon's first read only notes where the others stand (it charges nothing): it starts
 * with full buckets, like the first daemon did.
 */
export function createRateLimitSync({db, limiter, clock, daemonId}: RateLimitSyncOptions) {
  // What each other daemon had reported per org and window at our last read.
  const seen = new Map<string, number>()
  let hasRead = false
  let lastPurgeAt = 0

  async function share(counts: UsageCount[]): Promise<void> {
    for (let start = 0; start < counts.length; start += UPSERT_CHUNK) {
      const rows = counts.slice(start, start + UPSERT_CHUNK).map((count) => ({org_id: count.orgId, daemon_id: daemonId, window_start: count.windowStart, used: count.count}))
      await db
        .insertInto('rate_limit_usage')
        .values(rows)
        .onConflict((oc) => oc.columns(['org_id', 'daemon_id', 'window_start']).doUpdateSet((eb) => ({used: eb.ref('excluded.used')})))
        .execute()
    }
  }

  async function readOthers(now: number): Promise<{charges: Map<string, number>; daemons: number}> {
    const since = now - (now % USAGE_WINDOW_MS) - USAGE_WINDOW_MS
    const rows = await db.selectFrom('rate_limit_usage').select(['org_id', 'daemon_id', 'window_start', 'used']).where('window_start', '>=', since).where('daemon_id', '<>', daemonId).execute()
    const charges = new Map<string, number>()
    const daemons = new Set<string>()
    for (const row of rows) {
      daemons.add(row.daemon_id)
      if (row.org_id === PRESENCE) continue
      const key = `${row.org_id}\u0000${row.daemon_id}\u0000${row.window_start}`
      const used = Number(row.used)
      const delta = used - (seen.get(key) ?? 0)
      seen.set(key, used)
      if (hasRead && delta > 0) charges.set(row.org_id, (charges.get(row.org_id) ?? 0) + delta)
    }
    for (const key of seen.keys()) if (Number(key.slice(key.lastIndexOf('\u0000') + 1)) < since) seen.delete(key)
    hasRead = true
    return {charges, daemons: daemons.size + 1}
  }

  return {
    /** One round: share this daemon's new counts, charge the others', drop old rows and idle buckets. */
    async syncOnce(): Promise<void> {
      const now = clock.now().getTime()
      const counts = limiter.unsharedUsage()
      await share([...counts, {orgId: PRESENCE, windowStart: now - (now % USAGE_WINDOW_MS), count: 0}])
      limiter.markShared(counts)
      const {charges, daemons} = await readOthers(now)
      for (const [orgId, requests] of charges) await limiter.chargeOrg(orgId, requests)
      limiter.startInterval(daemons)
      if (now - lastPurgeAt >= PURGE_INTERVAL_MS) {
        lastPurgeAt = now
        await db.deleteFrom('rate_limit_usage').where('window_start', '<', now - USAGE_RETENTION_MS).execute()
      }
      limiter.sweep()
    },
  }
}

/** Runs the sync every `intervalMs` until stop(), which waits for a round in progress. */
export function startRateLimitSync(options: RateLimitSyncOptions & {intervalMs: number; onError?: (error: unknown) => void}) {
  const sync = createRateLimitSync(options)
  let running: Promise<void> | null = null
  const round = () => {
    // A slow round is not overlapped: the next tick skips it.
    if (running) return
    running = sync.syncOnce().catch((error: unknown) => options.onError?.(error)).finally(() => {
      running = null
    })
  }
  // At once: the others learn of this daemon, and it of them, before the first interval ends.
  round()
  const timer = setInterval(round, options.intervalMs)
  timer.unref()
  return {
    name: 'rate limit sync',
    syncNow: () => sync.syncOnce(),
    async stop(): Promise<void> {
      clearInterval(timer)
      await running
    },
  }
}
