import {z} from 'zod'
import {requireOrgPermission, requirePlatformActor} from '../access/org-access.js'
import type {Actor} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {OrganizationRow} from '../db/database.js'
import {inTransaction} from '../db/transaction.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import type {OrgTier} from './org-repo.js'
import {countSeats} from './seat-limit.js'
import {asTier, effectiveOrgLimits, UNLIMITED_OVERRIDE, type TierTable} from './tiers.js'

const MAX_LIMIT = 10_000_000

/**
 * A limit as given: a whole number ≥ 0 (a JSON integer, or a string of decimal digits as the
 * CLI's flags give it), "unlimited", or null (back to the tier's). Nothing else is read as a
 * number: "", " ", false, [] or "0x10" are refused, never taken for 0 or 16 (0 locks the org out).
 */
const limitValueSchema = z.union([
  z.literal('unlimited'),
  z.null(),
  z.number().int('must be a whole number').min(0, 'must be ≥ 0').max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`),
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number or "unlimited"')
    .transform(Number)
    .pipe(z.number().max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`)),
])

/** `PATCH /v1/orgs/{org}/limits` and `org limits --seats --rpm --clear`. A field left out stays as it is. */
export const setOrgLimitsSchema = z
  .object({seats: limitValueSchema.optional(), rpm: limitValueSchema.optional()})
  .refine((input) => input.seats !== undefined || input.rpm !== undefined, {message: 'give seats or rpm (null: back to the tier\'s)'})

export type LimitValue = number | 'unlimited' | null
export type SetOrgLimitsInput = {org: string; seats?: LimitValue | string; rpm?: LimitValue | string}

/** An override as shown: a number, "unlimited", or null when the tier's default applies. */
export type LimitOverride = number | 'unlimited' | null

export interface OrgLimitsView {
  org: string
  tier: string
  /** What binds the org now (null: unlimited). */
  effective: {seats: number | null; rpm: number | null}
  /** The tier's defaults. */
  tierDefaults: {seats: number | null; rpm: number | null}
  /** The org's own overrides; null: the tier's applies. */
  overrides: {seats: LimitOverride; rpm: LimitOverride}
  /** Seats taken now: members plus pending invitations not yet expired. */
  seatsUsed: {members: number; pendingInvitations: number; total: number}
}

/**
 * An organization's limits: its tier's seats and requests per minute, and per-org overrides
 * that only platform principals set. The rate limiter reads them through effectiveOrgLimits
 * (possibly cached for a short while, see src/rate-limit/).
 */
export function createOrgLimitsService(deps: ServiceDeps & {audit: AuditLog; tiers: TierTable}) {
  const {db, audit} = deps

  async function view(tx: Parameters<typeof countSeats>[0], org: OrganizationRow): Promise<OrgLimitsView> {
    const tier: OrgTier = asTier(org.tier)
    const effective = effectiveOrgLimits(deps.tiers, org)
    const usage = await countSeats(tx, deps.tiers, org, nowIso(deps))
    return {
      org: org.slug,
      tier: org.tier,
      effective: {seats: effective.seats, rpm: effective.requestsPerMinute},
      tierDefaults: {seats: deps.tiers.seats[tier], rpm: deps.tiers.requestsPerMinute[tier]},
      overrides: {seats: shownOverride(org.seat_limit), rpm: shownOverride(org.rpm_limit)},
      seatsUsed: {members: usage.members, pendingInvitations: usage.pendingInvitations, total: usage.used},
    }
  }

  return {
    /** The org's limits, overrides and seats in use. Needs org.read. Raises org.not_found, org.deleted, auth.org_mismatch, permission.denied. */
    async showLimits(actor: Actor, input: {org: string}): Promise<OrgLimitsView> {
      return inTransaction(db, async (tx) => {
        const {org} = await requireOrgPermission(tx, actor, input.org, 'org.read', {deleted: 'operators'})
        return view(tx, org)
      })
    },

    /**
     * Sets or clears (null) the org's seat and requests-per-minute overrides: platform principals
     * only (platform.required). Lowering seats below those in use keeps every member and
     * pending invitation; the org cannot grow until it is under the limit again. Audited
     * org.limits_updated (from, to). Raises platform.required, org.not_found, org.deleted,
     * validation.failed.
     */
    async setLimits(actor: Actor, input: SetOrgLimitsInput): Promise<OrgLimitsView> {
      const body = validateInput(setOrgLimitsSchema, {seats: input.seats, rpm: input.rpm})
      return inTransaction(db, async (tx) => {
        await requirePlatformActor(tx, actor, 'change the limits of an organization')
        const {org} = await requireOrgPermission(tx, actor, input.org, 'org.update', {lockOrg: true})
        const next = {
          seat_limit: body.seats === undefined ? org.seat_limit : storedOverride(body.seats),
          rpm_limit: body.rpm === undefined ? org.rpm_limit : storedOverride(body.rpm),
        }
        if (next.seat_limit === org.seat_limit && next.rpm_limit === org.rpm_limit) return view(tx, org)
        await tx.updateTable('organization').set({...next, updated_at: nowIso(deps)}).where('id', '=', org.id).execute()
        await audit.append(tx, actor, {
          action: 'org.limits_updated',
          orgId: org.id,
          target: {type: 'org', id: org.id},
          metadata: {
            from: {seats: shownOverride(org.seat_limit), rpm: shownOverride(org.rpm_limit)},
            to: {seats: shownOverride(next.seat_limit), rpm: shownOverride(next.rpm_limit)},
          },
        })
        return view(tx, {...org, ...next})
      })
    },
  }
}

function storedOverride(value: LimitValue): number | null {
  if (value === 'unlimited') return UNLIMITED_OVERRIDE
  return value
}

function shownOverride(stored: number | null): LimitOverride {
  if (stored === null) return null
  return stored < 0 ? 'unlimited' : stored
}
