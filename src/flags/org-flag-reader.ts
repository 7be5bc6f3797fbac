import {requireOrgPermission} from '../access/org-access.js'
import type {Actor} from '../access/principal.js'
import type {FeatureFlagRow, OrganizationRow} from '../db/database.js'
import {prepareQuery} from '../db/prepared-query.js'
import {DomainError} from '../errors/domain-error.js'
import type {ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {orgRefInputSchema, type OrgRefInput} from '../tenancy/org-schemas.js'
import {evaluateFlag, type FlagReason} from './flag-evaluation.js'
import {orgFlagSchema, type OrgFlagInput} from './flag-schemas.js'

export interface FlagValue {
  flag: string
  orgId: string
  orgSlug: string
  enabled: boolean
  reason: FlagReason
  bucket: number | null
  rolloutPercentage: number | null
}

type FlagDefinition = Pick<FeatureFlagRow, 'key' | 'default_enabled' | 'rollout_percentage'>

/**
 * The flags as one organization sees them: what an app asks at run time (GET
 * /v1/orgs/{org}/flags), so it is built for speed. The permission check is the one read of the
 * org and the caller's grant; then one prepared query reads every flag with this org's
 * override. Reads run outside a transaction: on SQLite a transaction takes the write lock.
 */
export function createOrgFlagReader(deps: ServiceDeps) {
  const {db} = deps
  const flagsOfOrg = (orgId: string) =>
    db
      .selectFrom('feature_flag')
      .leftJoin('flag_override', (join) => join.onRef('flag_override.flag_id', '=', 'feature_flag.id').on('flag_override.org_id', '=', orgId))
      .select(['feature_flag.key', 'feature_flag.default_enabled', 'feature_flag.rollout_percentage', 'flag_override.enabled as override'])
  const everyFlag = prepareQuery(db, 1, (orgId: string) => flagsOfOrg(orgId).orderBy('feature_flag.key'))
  const oneFlag = prepareQuery(db, 2, (orgId: string, key: string) => flagsOfOrg(orgId).where('feature_flag.key', '=', key))

  return {
    /** Every flag evaluated for the organization (flags.read), by key. Raises org.not_found, permission.denied, auth.org_mismatch. */
    async evaluateFlagsForOrg(actor: Actor, input: OrgRefInput): Promise<FlagValue[]> {
      const {org: ref} = validateInput(orgRefInputSchema, input)
      const {org} = await requireOrgPermission(db, actor, ref, 'flags.read', {deleted: 'operators'})
      const rows = await everyFlag(org.id)
      return rows.map((row) => toFlagValue(row, org, row.override === null ? null : row.override === 1))
    },

    /** One flag evaluated for the organization (flags.read), and why. Raises org.not_found, flag.not_found, permission.denied. */
    async evaluateFlagForOrg(actor: Actor, input: OrgFlagInput): Promise<FlagValue> {
      const {org: ref, key} = validateInput(orgFlagSchema, input)
      const {org} = await requireOrgPermission(db, actor, ref, 'flags.read', {deleted: 'operators'})
      const [row] = await oneFlag(org.id, key)
      if (!row) throw new DomainError('flag.not_found', `No flag "${key}"`)
      return toFlagValue(row, org, row.override === null ? null : row.override === 1)
    },
  }
}

export function toFlagValue(row: FlagDefinition, org: Pick<OrganizationRow, 'id' | 'slug'>, override: boolean | null): FlagValue {
  const result = evaluateFlag({key: row.key, defaultEnabled: row.default_enabled === 1, rolloutPercentage: row.rollout_percentage}, org.id, override)
  return {flag: row.key, orgId: org.id, orgSlug: org.slug, ...result, rolloutPercentage: row.rollout_percentage}
}
