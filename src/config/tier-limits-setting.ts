import {z} from 'zod'
import {ORG_TIERS, type OrgTier} from '../tenancy/org-repo.js'

/** A limit per tier: a number, or null for none ("unlimited"). */
export type TierLimits = Readonly<Record<OrgTier, number | null>>

const limitValue = z.union([z.literal('unlimited'), z.coerce.number().int().min(0).max(10_000_000)])

/**
 * `tier_seats` and `tier_rpm`: "free=5,basic=25,enterprise=unlimited" (environment, flags) or
 * {"free": 5, "enterprise": "unlimited"} (the config file). Every tier must be named once,
 * so a deployment's limits are what it reads in its config, nothing implied.
 */
export const tierLimitsSetting = z
  .union([z.string(), z.record(z.string(), z.union([z.string(), z.number()]))])
  .transform((value, context): TierLimits => {
    const pairs = typeof value === 'string' ? parsePairs(value) : Object.entries(value).map(([tier, limit]) => [tier, String(limit)] as const)
    const limits: Partial<Record<OrgTier, number | null>> = {}
    for (const [tier, text] of pairs) {
      if (!(ORG_TIERS as readonly string[]).includes(tier)) {
        context.addIssue({code: 'custom', message: `"${tier}" is not a tier (tiers: ${ORG_TIERS.join(', ')})`})
        return z.NEVER
      }
      const parsed = limitValue.safeParse(text.trim())
      if (!parsed.success) {
        context.addIssue({code: 'custom', message: `${tier}: "${text}" is not a whole number ≥ 0 or "unlimited"`})
        return z.NEVER
      }
      limits[tier as OrgTier] = parsed.data === 'unlimited' ? null : parsed.data
    }
    const missing = ORG_TIERS.filter((tier) => !(tier in limits))
    if (missing.length > 0) {
      context.addIssue({code: 'custom', message: `name every tier (missing: ${missing.join(', ')})`})
      return z.NEVER
    }
    return limits as TierLimits
  })

function parsePairs(text: string): (readonly [string, string])[] {
  return text
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const [tier = '', limit = ''] = pair.split('=', 2)
      return [tier.trim().toLowerCase(), limit] as const
    })
}
