import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import type {Clock} from '../security/clock.js'
import {effectiveOrgLimits, type TierTable} from '../tenancy/tiers.js'

/** How long an organization's requests-per-minute is cached: a changed tier or override binds within this time. */
export const ORG_LIMITS_CACHE_MS = 10_000

const MAX_CACHED_ORGS = 10_000

/**
 * An organization's requests per minute: a number, null (unlimited), or 'missing' when no org
 * has the id (purged): such a caller is never unlimited, the limiter charges its IP's public
 * bucket instead.
 */
export type OrgRpm = number | null | 'missing'

/** An organization's requests per minute, read from its row and cached briefly. */
export interface OrgRateLimits {
  /** The cached value when fresh (no await on the hot path), else a promise of the row's. */
  rpmOf(orgId: string): OrgRpm | Promise<OrgRpm>
  /** The cached value, fresh or not (undefined: never read); for sweeping buckets. */
  lastKnownRpmOf(orgId: string): OrgRpm | undefined
}

interface Cached {
  rpm: OrgRpm
  expiresAt: number
}

export function createOrgRateLimits({db, tiers, clock, cacheMs = ORG_LIMITS_CACHE_MS}: {db: Kysely<Database>; tiers: TierTable; clock: Clock; cacheMs?: number}): OrgRateLimits {
  const cache = new Map<string, Cached>()
  const pending = new Map<string, Promise<OrgRpm>>()

  async function load(orgId: string): Promise<OrgRpm> {
    try {
      const row = await db.selectFrom('organization').select(['tier', 'seat_limit', 'rpm_limit']).where('id', '=', orgId).executeTakeFirst()
      // An org that is gone (purged) is never unlimited: its callers pay per IP (see OrgRpm).
      const rpm: OrgRpm = row ? effectiveOrgLimits(tiers, row).requestsPerMinute : 'missing'
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
