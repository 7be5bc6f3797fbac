import type {Kysely} from 'kysely'
import type {Actor} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database, OrganizationRow} from '../db/database.js'
import {isUniqueViolation} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {OWNER_ROLE_KEY, requireRoleInOrg} from '../access/role-repo.js'
import {requireUser} from '../identity/user-repo.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {requireOrg, toOrganization, type Organization} from './org-repo.js'
import {createOrgSchema, orgSlugSchema, slugFromName, updateOrgSchema, type CreateOrgInput, type UpdateOrgInput} from './org-schemas.js'

export interface OrganizationSummary extends Organization {
  memberCount: number
}

export type OrgService = ReturnType<typeof createOrgService>

export function createOrgService(deps: ServiceDeps & {audit: AuditLog}) {
  const {db, audit} = deps

  async function countMembers(orgIds: string[]): Promise<Map<string, number>> {
    const counts = new Map(orgIds.map((id) => [id, 0]))
    if (orgIds.length === 0) return counts
    const rows = await db
      .selectFrom('membership')
      .select(['org_id', (eb) => eb.fn.countAll<number>().as('count')])
      .where('org_id', 'in', orgIds)
      .groupBy('org_id')
      .execute()
    for (const row of rows) counts.set(row.org_id, Number(row.count))
    return counts
  }

  return {
    /**
     * Creates an organization, and with `owner` makes that user its owner, in one transaction.
     * With `ifNotExists`, an organization with the same slug and name is returned instead
     * (`created: false`). Raises validation.failed, org.slug_taken, user.not_found, user.disabled.
     */
    async createOrg(actor: Actor, input: CreateOrgInput, trx?: Kysely<Database>): Promise<{org: Organization; created: boolean}> {
      const parsed = validateInput(createOrgSchema, input)
      const slug = parsed.slug ?? validateInput(orgSlugSchema.describe('slug'), slugFromName(parsed.name))
      try {
        return await inTransaction(trx ?? db, async (tx) => {
          const existing = await tx.selectFrom('organization').selectAll().where('slug', '=', slug).executeTakeFirst()
          if (existing) return {org: toOrganization(sameOrgOrConflict(existing, parsed.name, parsed.ifNotExists)), created: false}
          const owner = parsed.owner ? await requireUser(tx, parsed.owner) : null
          const now = nowIso(deps)
          const row: OrganizationRow = {id: deps.newId(), slug, name: parsed.name, tier: parsed.tier, created_at: now, updated_at: now, deleted_at: null, domain: null}
          await tx.insertInto('organization').values(row).execute()
          await audit.append(tx, actor, {action: 'org.created', orgId: row.id, target: {type: 'org', id: row.id}, metadata: {slug, name: row.name, tier: row.tier}})
          if (owner) {
            const ownerRole = await requireRoleInOrg(tx, row.id, slug, OWNER_ROLE_KEY)
            await tx.insertInto('membership').values({id: deps.newId(), org_id: row.id, user_id: owner.id, role_id: ownerRole.id, created_at: now, updated_at: now}).execute()
            await audit.append(tx, actor, {action: 'member.added', orgId: row.id, target: {type: 'user', id: owner.id}, metadata: {role: OWNER_ROLE_KEY}})
          }
          return {org: toOrganization(row), created: true}
        })
      } catch (error) {
        // Another process created the same slug between our check and our insert: judge it as if it had been there.
        if (isUniqueViolation(error)) {
          const existing = await db.selectFrom('organization').selectAll().where('slug', '=', slug).executeTakeFirst()
          if (existing) return {org: toOrganization(sameOrgOrConflict(existing, parsed.name, parsed.ifNotExists)), created: false}
          throw new DomainError('org.slug_taken', `An organization with slug "${slug}" already exists`)
        }
        throw error
      }
    },

    async listOrgs(options: {includeDeleted?: boolean} = {}): Promise<OrganizationSummary[]> {
      let query = db.selectFrom('organization').selectAll().orderBy('created_at').orderBy('slug')
      if (!options.includeDeleted) query = query.where('deleted_at', 'is', null)
      const rows = await query.execute()
      const counts = await countMembers(rows.map((row) => row.id))
      return rows.map((row) => ({...toOrganization(row), memberCount: counts.get(row.id) ?? 0}))
    },

    /** Raises org.not_found. Deleted organizations are shown too (with deleted_at). */
    async showOrg(ref: string): Promise<OrganizationSummary> {
      const row = await requireOrg(db, ref, {allowDeleted: true})
      const counts = await countMembers([row.id])
      return {...toOrganization(row), memberCount: counts.get(row.id) ?? 0}
    },

    /** Renames an organization or changes its tier. Raises validation.failed, org.not_found, org.deleted. */
    async updateOrg(actor: Actor, ref: string, input: UpdateOrgInput): Promise<Organization> {
      const parsed = validateInput(updateOrgSchema, input)
      return inTransaction(db, async (tx) => {
        const row = await requireOrg(tx, ref)
        const changes: Record<string, {from: unknown; to: unknown}> = {}
        if (parsed.name !== undefined && parsed.name !== row.name) changes.name = {from: row.name, to: parsed.name}
        if (parsed.tier !== undefined && parsed.tier !== row.tier) changes.tier = {from: row.tier, to: parsed.tier}
        if (Object.keys(changes).length === 0) return toOrganization(row)
        const updated = {...row, name: parsed.name ?? row.name, tier: parsed.tier ?? row.tier, updated_at: nowIso(deps)}
        await tx.updateTable('organization').set({name: updated.name, tier: updated.tier, updated_at: updated.updated_at}).where('id', '=', row.id).execute()
        await audit.append(tx, actor, {action: 'org.updated', orgId: row.id, target: {type: 'org', id: row.id}, metadata: {changes}})
        return toOrganization(updated)
      })
    },

    /** Soft-deletes: the organization and its data stay, hidden, until restored or purged. Raises org.not_found, org.deleted. */
    async deleteOrg(actor: Actor, ref: string): Promise<Organization> {
      return inTransaction(db, async (tx) => {
        const row = await requireOrg(tx, ref)
        const deletedAt = nowIso(deps)
        await tx.updateTable('organization').set({deleted_at: deletedAt, updated_at: deletedAt}).where('id', '=', row.id).execute()
        await audit.append(tx, actor, {action: 'org.deleted', orgId: row.id, target: {type: 'org', id: row.id}, metadata: {slug: row.slug}})
        return toOrganization({...row, deleted_at: deletedAt, updated_at: deletedAt})
      })
    },

    /** Undoes a soft delete. Raises org.not_found, org.not_deleted. */
    async restoreOrg(actor: Actor, ref: string): Promise<Organization> {
      return inTransaction(db, async (tx) => {
        const row = await requireOrg(tx, ref, {allowDeleted: true})
        if (!row.deleted_at) throw new DomainError('org.not_deleted', `Organization "${row.slug}" is not deleted`)
        const now = nowIso(deps)
        await tx.updateTable('organization').set({deleted_at: null, updated_at: now}).where('id', '=', row.id).execute()
        await audit.append(tx, actor, {action: 'org.restored', orgId: row.id, target: {type: 'org', id: row.id}, metadata: {slug: row.slug}})
        return toOrganization({...row, deleted_at: null, updated_at: now})
      })
    },

    /**
     * Deletes an organization for good with everything it owns (memberships, custom roles,
     * flag overrides), live or soft-deleted. The audit log keeps its events. Raises org.not_found.
     */
    async purgeOrg(actor: Actor, ref: string): Promise<{org: Organization; removed: Record<string, number>}> {
      return inTransaction(db, async (tx) => {
        const row = await requireOrg(tx, ref, {allowDeleted: true})
        const customRoleIds = tx.selectFrom('role').select('id').where('org_id', '=', row.id)
        const overrides = await tx.deleteFrom('flag_override').where('org_id', '=', row.id).executeTakeFirst()
        const memberships = await tx.deleteFrom('membership').where('org_id', '=', row.id).executeTakeFirst()
        await tx.deleteFrom('role_permission').where('role_id', 'in', customRoleIds).execute()
        const roles = await tx.deleteFrom('role').where('org_id', '=', row.id).executeTakeFirst()
        await tx.deleteFrom('organization').where('id', '=', row.id).execute()
        const removed = {memberships: Number(memberships.numDeletedRows), customRoles: Number(roles.numDeletedRows), flagOverrides: Number(overrides.numDeletedRows)}
        await audit.append(tx, actor, {action: 'org.purged', orgId: row.id, target: {type: 'org', id: row.id}, metadata: {slug: row.slug, name: row.name, removed}})
        return {org: toOrganization(row), removed}
      })
    },
  }
}

function sameOrgOrConflict(existing: OrganizationRow, name: string, ifNotExists: boolean): OrganizationRow {
  if (!ifNotExists) throw new DomainError('org.slug_taken', `An organization with slug "${existing.slug}" already exists`)
  if (existing.deleted_at) throw new DomainError('org.slug_taken', `Slug "${existing.slug}" belongs to a deleted organization; restore it with \`saas-ctl org restore ${existing.slug}\``)
  if (existing.name !== name) throw new DomainError('org.slug_taken', `Slug "${existing.slug}" belongs to another organization ("${existing.name}")`)
  return existing
}
