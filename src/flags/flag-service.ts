import type {Kysely} from 'kysely'
import {requirePlatformActor} from '../access/org-access.js'
import type {Actor} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database, FeatureFlagRow, OrganizationRow} from '../db/database.js'
import {isUniqueViolation} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {requireOrg} from '../tenancy/org-repo.js'
import {createFlagSchema, flagKeySchema, overrideSchema, setFlagSchema, type CreateFlagInput, type FlagRefInput, type OverrideInput, type SetFlagInput} from './flag-schemas.js'
import {createOrgFlagReader, toFlagValue, type FlagValue} from './org-flag-reader.js'

export type {FlagValue} from './org-flag-reader.js'

export interface FeatureFlag {
  id: string
  key: string
  description: string | null
  defaultEnabled: boolean
  rolloutPercentage: number | null
  overrideCount: number
  createdAt: string
  updatedAt: string
}

export interface FlagDetails extends FeatureFlag {
  overrides: {orgId: string; orgSlug: string; enabled: boolean}[]
}

export type FlagService = ReturnType<typeof createFlagService>

export function createFlagService(deps: ServiceDeps & {audit: AuditLog}) {
  const {db, audit} = deps

  async function requireFlag(tx: Kysely<Database>, key: string): Promise<FeatureFlagRow> {
    const normalized = validateInput(flagKeySchema, key)
    const row = await tx.selectFrom('feature_flag').selectAll().where('key', '=', normalized).executeTakeFirst()
    if (!row) throw new DomainError('flag.not_found', `No flag "${normalized}"`)
    return row
  }

  async function toFlags(rows: FeatureFlagRow[]): Promise<FeatureFlag[]> {
    const counts = rows.length === 0 ? [] : await db
      .selectFrom('flag_override')
      .select(['flag_id', (eb) => eb.fn.countAll<number>().as('count')])
      .where('flag_id', 'in', rows.map((row) => row.id))
      .groupBy('flag_id')
      .execute()
    const countByFlag = new Map(counts.map((row) => [row.flag_id, Number(row.count)]))
    return rows.map((row) => toFlag(row, countByFlag.get(row.id) ?? 0))
  }

  /** Writes changed columns of a flag and audits them as flag.updated. */
  async function updateFlag(actor: Actor, tx: Kysely<Database>, row: FeatureFlagRow, next: Pick<FeatureFlagRow, 'description' | 'default_enabled' | 'rollout_percentage'>): Promise<FeatureFlag> {
    const changes: Record<string, {from: unknown; to: unknown}> = {}
    if (next.description !== row.description) changes.description = {from: row.description, to: next.description}
    if (next.default_enabled !== row.default_enabled) changes.default = {from: onOff(row.default_enabled), to: onOff(next.default_enabled)}
    if (next.rollout_percentage !== row.rollout_percentage) changes.rollout = {from: row.rollout_percentage, to: next.rollout_percentage}
    const overrideCount = await countOverrides(tx, row.id)
    if (Object.keys(changes).length === 0) return toFlag(row, overrideCount)
    const updated = {...row, ...next, updated_at: nowIso(deps)}
    await tx.updateTable('feature_flag').set({...next, updated_at: updated.updated_at}).where('id', '=', row.id).execute()
    await audit.append(tx, actor, {action: 'flag.updated', target: {type: 'flag', id: row.id}, metadata: {key: row.key, changes}})
    return toFlag(updated, overrideCount)
  }

  return {
    // Flag definitions and overrides span every tenant: platform principals only (platform.required).

    /** Creates a flag. With `ifNotExists`, an existing flag of that key is returned (`created: false`). Raises validation.failed, flag.key_taken. */
    async createFlag(actor: Actor, input: CreateFlagInput): Promise<{flag: FeatureFlag; created: boolean}> {
      const parsed = validateInput(createFlagSchema, input)
      try {
        return await inTransaction(db, async (tx) => {
          await requirePlatformActor(tx, actor, 'manage feature flags')
          const existing = await tx.selectFrom('feature_flag').selectAll().where('key', '=', parsed.key).executeTakeFirst()
          if (existing) {
            if (!parsed.ifNotExists) throw new DomainError('flag.key_taken', `A flag "${parsed.key}" already exists`)
            return {flag: toFlag(existing, await countOverrides(tx, existing.id)), created: false}
          }
          const now = nowIso(deps)
          const row: FeatureFlagRow = {
            id: deps.newId(),
            key: parsed.key,
            description: parsed.description ?? null,
            default_enabled: parsed.defaultEnabled ? 1 : 0,
            rollout_percentage: parsed.rolloutPercentage,
            created_at: now,
            updated_at: now,
          }
          await tx.insertInto('feature_flag').values(row).execute()
          await audit.append(tx, actor, {action: 'flag.created', target: {type: 'flag', id: row.id}, metadata: {key: row.key, default: onOff(row.default_enabled), rollout: row.rollout_percentage}})
          return {flag: toFlag(row, 0), created: true}
        })
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError('flag.key_taken', `A flag "${parsed.key}" already exists`)
        throw error
      }
    },

    async listFlags(actor: Actor): Promise<FeatureFlag[]> {
      await requirePlatformActor(db, actor, 'manage feature flags')
      return toFlags(await db.selectFrom('feature_flag').selectAll().orderBy('key').execute())
    },

    /** A flag with its per-organization overrides. Raises flag.not_found. */
    async showFlag(actor: Actor, input: FlagRefInput): Promise<FlagDetails> {
      await requirePlatformActor(db, actor, 'manage feature flags')
      const row = await requireFlag(db, input.key)
      const overrides = await db
        .selectFrom('flag_override')
        .innerJoin('organization', 'organization.id', 'flag_override.org_id')
        .select(['organization.id as orgId', 'organization.slug as orgSlug', 'flag_override.enabled'])
        .where('flag_override.flag_id', '=', row.id)
        .orderBy('organization.slug')
        .execute()
      return {...toFlag(row, overrides.length), overrides: overrides.map((override) => ({...override, enabled: override.enabled === 1}))}
    },

    /** Sets a flag's default, rollout percentage (null clears it) or description. Raises validation.failed, flag.not_found. */
    async setFlag(actor: Actor, input: FlagRefInput & SetFlagInput): Promise<FeatureFlag> {
      const {key, ...fields} = input
      const parsed = validateInput(setFlagSchema, fields)
      return inTransaction(db, async (tx) => {
        await requirePlatformActor(tx, actor, 'manage feature flags')
        const row = await requireFlag(tx, key)
        return updateFlag(actor, tx, row, {
          description: parsed.description ?? row.description,
          default_enabled: parsed.defaultEnabled === undefined ? row.default_enabled : parsed.defaultEnabled ? 1 : 0,
          rollout_percentage: parsed.rolloutPercentage === undefined ? row.rollout_percentage : parsed.rolloutPercentage,
        })
      })
    },

    /** Flips the flag's global default. Raises flag.not_found. */
    async toggleFlag(actor: Actor, input: FlagRefInput): Promise<FeatureFlag> {
      return inTransaction(db, async (tx) => {
        await requirePlatformActor(tx, actor, 'manage feature flags')
        const row = await requireFlag(tx, input.key)
        return updateFlag(actor, tx, row, {description: row.description, default_enabled: row.default_enabled === 1 ? 0 : 1, rollout_percentage: row.rollout_percentage})
      })
    },

    /** Forces a flag on or off for one organization, or clears that. Raises validation.failed, flag.not_found, org.not_found, org.deleted. */
    async setOverride(actor: Actor, input: OverrideInput): Promise<FlagValue> {
      const {key, org: orgRef, value: choice} = validateInput(overrideSchema, input)
      return inTransaction(db, async (tx) => {
        await requirePlatformActor(tx, actor, 'manage feature flags')
        const row = await requireFlag(tx, key)
        const org = await requireOrg(tx, orgRef)
        const current = await tx.selectFrom('flag_override').select('enabled').where('flag_id', '=', row.id).where('org_id', '=', org.id).executeTakeFirst()
        const previous = current ? onOff(current.enabled) : 'clear'
        const value = toFlagValue(row, org, choice === 'clear' ? null : choice === 'on')
        if (previous === choice) return value
        const now = nowIso(deps)
        if (choice === 'clear') {
          await tx.deleteFrom('flag_override').where('flag_id', '=', row.id).where('org_id', '=', org.id).execute()
        } else {
          // An upsert: another process may set the same override at the same moment.
          await tx
            .insertInto('flag_override')
            .values({flag_id: row.id, org_id: org.id, enabled: choice === 'on' ? 1 : 0, created_at: now, updated_at: now})
            .onConflict((oc) => oc.columns(['flag_id', 'org_id']).doUpdateSet({enabled: choice === 'on' ? 1 : 0, updated_at: now}))
            .execute()
        }
        await audit.append(tx, actor, {action: 'flag.override_set', orgId: org.id, target: {type: 'flag', id: row.id}, metadata: {key: row.key, from: previous, to: choice}})
        return value
      })
    },

    ...createOrgFlagReader(deps),

    /** Deletes a flag and its overrides. Raises flag.not_found. */
    async deleteFlag(actor: Actor, input: FlagRefInput): Promise<FeatureFlag> {
      return inTransaction(db, async (tx) => {
        await requirePlatformActor(tx, actor, 'manage feature flags')
        const row = await requireFlag(tx, input.key)
        const overrides = await tx.deleteFrom('flag_override').where('flag_id', '=', row.id).executeTakeFirst()
        await tx.deleteFrom('feature_flag').where('id', '=', row.id).execute()
        await audit.append(tx, actor, {action: 'flag.deleted', target: {type: 'flag', id: row.id}, metadata: {key: row.key, overrides_removed: Number(overrides.numDeletedRows)}})
        return toFlag(row, 0)
      })
    },
  }
}

async function countOverrides(tx: Kysely<Database>, flagId: string): Promise<number> {
  const row = await tx.selectFrom('flag_override').select((eb) => eb.fn.countAll<number>().as('count')).where('flag_id', '=', flagId).executeTakeFirstOrThrow()
  return Number(row.count)
}

function onOff(value: number): 'on' | 'off' {
  return value === 1 ? 'on' : 'off'
}

function toFlag(row: FeatureFlagRow, overrideCount: number): FeatureFlag {
  return {
    id: row.id,
    key: row.key,
    description: row.description,
    defaultEnabled: row.default_enabled === 1,
    rolloutPercentage: row.rollout_percentage,
    overrideCount,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}
