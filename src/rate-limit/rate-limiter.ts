import type {Clock} from '../security/clock.js'
import {createBucketStore} from './bucket-store.js'
import type {OrgRateLimits, OrgRpm} from './org-rate-limits.js'
import type {TakeResult} from './token-bucket.js'

/**
 * Which bucket a route draws from: `org` the caller's organization's (authenticated routes),
 * `auth` and `public` the client IP's (anonymous routes: sign-in and token routes, the rest),
 * `none` no bucket (health checks, metrics, server-to-server routes with their own secret).
 */
export type RateLimitGroup = 'org' | 'auth' | 'public' | 'none'

/** The anonymous groups, limited per client IP. */
export type ClientRateLimitGroup = 'auth' | 'public'

/** Usage windows shared between daemons: admitted requests per org per daemon per minute. */
export const USAGE_WINDOW_MS = 60_000

/** The answer for one request: allowed or not, with what the RateLimit-* headers say. */
export interface RateLimitDecision extends TakeResult {
  /** Requests per minute (the bucket's size). */
  limit: number
}

/** An organization's admitted requests in one usage window, as this daemon counted them. */
export interface UsageCount {
  orgId: string
  windowStart: number
  count: number
}

export interface RateLimiterOptions {
  clock: Clock
  orgLimits: OrgRateLimits
  /** Requests per minute per client IP of the anonymous groups; 0: no limit. */
  authRpm: number
  publicRpm: number
  /** Per-IP buckets kept at most (least recently used forgotten first). */
  maxClientBuckets?: number
}

export type RateLimiter = ReturnType<typeof createRateLimiter>

/**
 * The daemon's request budgets, in memory: one token bucket per organization and one per client
 * IP and anonymous group. The org buckets' use is shared with other daemons on the same database
 * (see rate-limit-sync.ts): this daemon reports what it admitted and is charged what they did.
 * Per-IP buckets stay per daemon.
 */
export function createRateLimiter(options: RateLimiterOptions) {
  const {clock, orgLimits} = options
  const orgBuckets = createBucketStore({maxBuckets: Number.POSITIVE_INFINITY})
  const clientBuckets = createBucketStore({maxBuckets: options.maxClientBuckets ?? 50_000})
  const clientRpm: Record<ClientRateLimitGroup, number> = {auth: options.authRpm, public: options.publicRpm}
  // Admitted requests per org and usage window, with whether the count changed since it was shared.
  const usage = new Map<string, UsageCount & {isShared: boolean}>()
  // Daemons sharing the database (this one included), as the last sync saw them.
  let daemonCount = 1
  // With other daemons: what this one may admit per org until the next sync (see shareOf).
  const shares = new Map<string, {base: number; since: number; spent: number}>()

  function takeFromOrg(orgId: string, rpm: OrgRpm, clientKey: string): RateLimitDecision | null {
    if (rpm === null) return null
    // No org has the id (purged): never unlimited, the caller pays from its IP's public bucket.
    if (rpm === 'missing') return takeForClient('public', clientKey)
    const now = clock.now().getTime()
    const limit = {perMinute: rpm}
    const share = daemonCount > 1 ? shareOf(orgId, limit, now) : null
    if (share && share.spent + 1 > share.base + (rpm * (now - share.since)) / USAGE_WINDOW_MS) {
      // The bucket may hold more, but this daemon's share of it until the next sync is spent.
      const held = orgBuckets.peek(orgId, limit, now)
      return {...held, isAllowed: false, remaining: 0, retryAfterSeconds: Math.max(1, held.retryAfterSeconds, Math.ceil(60 / Math.max(rpm, 1))), limit: rpm}
    }
    const result = orgBuckets.take(orgId, limit, now)
    if (!result.isAllowed) return {...result, limit: rpm}
    countUse(orgId, now)
    if (!share) return {...result, limit: rpm}
    share.spent += 1
    const shareLeft = Math.floor(share.base + (rpm * (now - share.since)) / USAGE_WINDOW_MS - share.spent)
    return {...result, remaining: Math.max(0, Math.min(result.remaining, shareLeft)), limit: rpm}
  }

  /**
   * Between two syncs a daemon does not see the others' use, so with N daemons each admits at
   * most 1/N of what the org's bucket held at the last sync, plus the refill since: together
   * they cannot spend more than the bucket, and overshoot by at most (N − 1) × the refill of
   * one sync interval.
   */
  function shareOf(orgId: string, limit: {perMinute: number}, now: number) {
    let share = shares.get(orgId)
    if (!share) {
      share = {base: (limit.perMinute - orgBuckets.deficitOf(orgId, limit, now)) / daemonCount, since: now, spent: 0}
      shares.set(orgId, share)
    }
    return share
  }

  function countUse(orgId: string, now: number): void {
    const windowStart = now - (now % USAGE_WINDOW_MS)
    const key = `${windowStart}:${orgId}`
    const entry = usage.get(key)
    if (entry) {
      entry.count += 1
      entry.isShared = false
    } else {
      usage.set(key, {orgId, windowStart, count: 1, isShared: false})
    }
  }

  function takeForClient(group: ClientRateLimitGroup, ip: string): RateLimitDecision | null {
    const rpm = clientRpm[group]
    if (rpm === 0) return null
    return {...clientBuckets.take(`${group}:${ip}`, {perMinute: rpm}, clock.now().getTime()), limit: rpm}
  }

  return {
    /**
     * Draws one token from the organization's bucket; null when its tier or override sets no
     * limit. An id no org has (purged) draws from the public bucket of `clientKey` (the caller's IP key).
     */
    takeForOrg(orgId: string, clientKey = 'unknown'): RateLimitDecision | null | Promise<RateLimitDecision | null> {
      const rpm = orgLimits.rpmOf(orgId)
      return typeof rpm === 'object' && rpm !== null ? rpm.then((loaded) => takeFromOrg(orgId, loaded, clientKey)) : takeFromOrg(orgId, rpm, clientKey)
    },

    /** Draws one token from the client IP's bucket of the group; null when the group has no limit. */
    takeForClient,

    /** What this daemon admitted and has not shared yet. */
    unsharedUsage(): UsageCount[] {
      const counts: UsageCount[] = []
      for (const entry of usage.values()) if (!entry.isShared) counts.push({orgId: entry.orgId, windowStart: entry.windowStart, count: entry.count})
      return counts
    },

    /** Marks counts as shared (those that did not grow meanwhile) and forgets windows no daemon reads any more. */
    markShared(counts: UsageCount[]): void {
      for (const count of counts) {
        const entry = usage.get(`${count.windowStart}:${count.orgId}`)
        if (entry && entry.count === count.count) entry.isShared = true
      }
      const now = clock.now().getTime()
      // Unshared counts go too after a few windows (the database unreachable): no daemon reads them then.
      for (const [key, entry] of usage) {
        if (entry.windowStart < now - (entry.isShared ? 2 : 5) * USAGE_WINDOW_MS) usage.delete(key)
      }
    },

    /** After a sync: the daemons now sharing the database; every org's share starts again from its bucket. */
    startInterval(daemons: number): void {
      daemonCount = Math.max(1, daemons)
      shares.clear()
    },

    /** Charges the organization's bucket with requests other daemons admitted. */
    async chargeOrg(orgId: string, requests: number): Promise<void> {
      const rpm = await orgLimits.rpmOf(orgId)
      if (rpm === null || rpm === 'missing') return
      orgBuckets.charge(orgId, {perMinute: rpm}, requests, clock.now().getTime())
    },

    /** Forgets buckets that refilled completely; bounded memory for idle keys. */
    sweep(): void {
      const now = clock.now().getTime()
      orgBuckets.sweep(now, (orgId) => {
        const rpm = orgLimits.lastKnownRpmOf(orgId)
        return typeof rpm === 'number' ? {perMinute: rpm} : null
      })
      clientBuckets.sweep(now, (key) => {
        const rpm = clientRpm[key.slice(0, key.indexOf(':')) as ClientRateLimitGroup]
        return rpm ? {perMinute: rpm} : null
      })
    },

    /** Buckets held (for tests and metrics). */
    bucketCounts: () => ({org: orgBuckets.size(), client: clientBuckets.size()}),
  }
}
