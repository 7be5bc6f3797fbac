import type {TierLimits} from '../config/tier-limits-setting.js'
import type {OrganizationRow} from '../db/database.js'
import {ORG_TIERS, type OrgTier} from './org-repo.js'

/** The limits that bind an organization now: its overrides, else its tier's. null: no limit. */
export interface OrgLimits {
  /** Members plus pending invitations. */
  seats: number | null
  requestsPerMinute: number | null
}

/** The deployment's tier table (settings tier_seats and tier_rpm). */
export interface TierTable {
  seats: TierLimits
  requestsPerMinute: TierLimits
}

/** What binds this organization: a per-org override wins over its tier's default. */
export function effectiveOrgLimits(tiers: TierTable, org: Pick<OrganizationRow, 'tier' | 'seat_limit' | 'rpm_limit'>): OrgLimits {
  const tier = asTier(org.tier)
  return {
    seats: overrideOr(org.seat_limit, tiers.seats[tier]),
    requestsPerMinute: overrideOr(org.rpm_limit, tiers.requestsPerMinute[tier]),
  }
}

/** How an "unlimited" override is stored in seat_limit / rpm_limit (NULL already means "the tier's"). */
export const UNLIMITED_OVERRIDE = -1

function overrideOr(override: number | null, tierLimit: number | null): number | null {
  if (override === null) return tierLimit
  return override < 0 ? null : override
}

// A tier the code no longer knows (a row written by a newer version) is treated as the smallest.
export function asTier(tier: string): OrgTier {
  return (ORG_TIERS as readonly string[]).includes(tier) ? (tier as OrgTier) : 'free'
}
