import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import type {Clock} from '../security/clock.js'
import {effectiveOrgLimits, type TierTable} from '../tenancy/tiers.js'

/** How long an organization's requests-per-minute is cached: a changed tier or override binds within this time. */
export const ORG_LIMITS_CACHE_MS = 10_000

const MAX_CACHED_ORGS = 10_000

/** An organization's requests per minute (null: unlimited), read from its row and cached briefly. */
export interface OrgRateLimits {
  /** The cached value when fresh (no await on the hot path), else a promise of the row's. */
  rpmOf(orgId: string): number | null | Promise<number | null>
  /** The cached value, fresh or not (undefined: never read); for sweeping buckets. */
  lastKnownRpmOf(orgId: string): number | null | undefined
}

interface Cached {
  rpm: number | null
  expiresAt: number
}

export function createOrgRateLimits({db, tiers, clock, cacheMs = ORG_LIMITS_CACHE_MS}: {db: Kysely<Database>; tiers: TierTable; clock: Clock; cacheMs?: number}): OrgRateLimits {
  const cache = new Map<string, Cached>()
  const pending = new Map<string, Promise<number | null>>()

  async function load(orgId: string): Promise<number | null> {
    try {
      const row = await db.selectFrom('organization').select(['tier', 'seat_limit', 'rpm_limit']).where('id', '=', orgId).executeTakeFirst()
      // An org that is gone limits nothing here: the service answers for it.
      const rpm = row ? effectiveOrgLimits(tiers, row).requestsPerMinute : null
      cache.delete(orgId)
      cache.set(orgId, {rpm, expiresAt: clock.now().getTime() + cacheMs})
      if (cache.size > MAX_CACHED_ORGS) cache.delete(cache.keys().next().value!)
      return rpm
    } finally {
      pending.delete(orgId)
    }
  }

  return {
    rpmOf(orgId) {
      const cached = cache.get(orgId)
      if (cached && cached.expiresAt > clock.now().getTime()) return cached.rpm
      // One read per org at a time, however many requests wait for it.
      let loading = pending.get(orgId)
      if (!loading) {
        loading = load(orgId)
        pending.set(orgId, loading)
      }
      return loading
    },
    lastKnownRpmOf: (orgId) => cache.get(orgId)?.rpm,
  }
}
