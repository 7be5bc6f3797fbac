import type {Kysely} from 'kysely'
import {isPlatformActor, requireOrgPermission, resolveOrgAccess} from '../access/org-access.js'
import {PERMISSION_KEYS} from '../access/permission-catalog.js'
import type {Actor} from '../access/principal.js'
import {OWNER_ROLE_KEY, requireRoleInOrg} from '../access/role-repo.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database, OrganizationRow} from '../db/database.js'
import {isUniqueViolation} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError, isDomainError} from '../errors/domain-error.js'
import type {SecondFactor} from '../identity/second-factor.js'
import {findUserByRef, requireUser} from '../identity/user-repo.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {createOrgLifecycle, type OrgLifecycleDeps} from './org-lifecycle.js'
import {revokeMembersWithoutSecondFactor} from './second-factor-enforcement.js'
import {countMembersOfOrgs, findOrgByDomain, rolesOfUserByOrg, toOrganization, type Organization} from './org-repo.js'
import {
  createOrgSchema,
  listOrgsSchema,
  orgRefInputSchema,
  orgSlugSchema,
  slugFromName,
  updateOrgSchema,
  type CreateOrgInput,
  type ListOrgsInput,
  type OrgRefInput,
  type UpdateOrgInput,
} from './org-schemas.js'

export interface OrganizationSummary extends Organization {
  memberCount: number
  /** The caller's role there: set for a user's own organizations (and an org API key's role). */
  role?: string
}

export interface OrgServiceDeps extends ServiceDeps, OrgLifecycleDeps {
  audit: AuditLog
  /** Config allow_user_org_creation: whether users may create organizations themselves. */
  allowUserOrgCreation: boolean
  /** Whether a member has 2FA on: turning require_2fa on revokes what members without it hold. */
  secondFactor: Pick<SecondFactor, 'isEnabled'>
}

export interface CreateOrgOptions {
  /**
   * The personal organization made at registration: allow_user_org_creation governs only the
   * organizations users create themselves, so it does not stop a sign-up.
   */
  personal?: boolean
}

export type OrgService = ReturnType<typeof createOrgService>

export function createOrgService(deps: OrgServiceDeps) {
  const {db, audit} = deps

  /**
   * Who becomes the owner of a new organization, after checking the actor may create it with
   * these fields. A user (not a platform admin) needs allow_user_org_creation, may not set a
   * tier, may name only themselves as owner, and becomes the owner; an organization API key
   * may not create organizations. Platform principals (operators, platform keys, platform
   * admins) may set anything, and the org has an owner only when they name one.
   */
  async function decideOwner(tx: Kysely<Database>, actor: Actor, parsed: {tier?: string; owner?: string}, options: CreateOrgOptions): Promise<string | null> {
    const {principal} = actor
    if (await isPlatformActor(tx, actor)) return parsed.owner ? (await requireUser(tx, parsed.owner)).id : null
    if (principal.kind !== 'user') throw platformRequired('create organizations')
    if (!deps.allowUserOrgCreation && !options.personal) throw new DomainError('org.creation_disabled', 'Creating organizations is turned off on this server; ask an operator')
    if (parsed.tier !== undefined) throw platformRequired('set the tier')
    if (parsed.owner !== undefined) {
      // Naming oneself is allowed; anyone else is refused alike whether they exist or not.
      const named = await findUserByRef(tx, parsed.owner)
      if (named?.id !== principal.userId) throw platformRequired('make another user owner')
    }
    return principal.userId
  }

  /** ifNotExists on an existing slug: the same organization (a tenant only if they belong to it), else org.slug_taken. */
  async function existingOrConflict(tx: Kysely<Database>, actor: Actor, existing: OrganizationRow, parsed: {name: string; ifNotExists: boolean}): Promise<Organization> {
    if (!parsed.ifNotExists) throw slugTaken(existing.slug)
    // Membership first: a tenant learns nothing of an org that is not theirs (its name, whether it is deleted).
    if (!(await isPlatformActor(tx, actor))) {
      const member = await resolveOrgAccess(tx, actor, existing.id, {ignoreBinding: true}).catch((error: unknown) => {
        if (isDomainError(error) && error.code === 'org.not_found') return null
        throw error
      })
      if (!member) throw slugTaken(existing.slug)
    }
    return toOrganization(sameOrgOrConflict(existing, parsed.name, parsed.ifNotExists))
  }

  async function summarize(rows: OrganizationRow[], roles: Map<string, string> | null): Promise<OrganizationSummary[]> {
    const counts = await countMembersOfOrgs(db, rows.map((row) => row.id))
    return rows.map((row) => {
      const role = roles?.get(row.id)
      return {...toOrganization(row), memberCount: counts.get(row.id) ?? 0, ...(role ? {role} : {})}
    })
  }

  return {
    /**
     * Creates an organization and makes its owner a member, in one transaction (the caller's
     * `trx` when given). See decideOwner for who may. With `ifNotExists`, an organization with
     * the same slug and name is returned instead (`created: false`). Raises validation.failed,
     * org.slug_taken, org.creation_disabled, platform.required, user.not_found, user.disabled.
     */
    async createOrg(actor: Actor, input: CreateOrgInput, trx?: Kysely<Database>, options: CreateOrgOptions = {}): Promise<{org: Organization; created: boolean}> {
      const parsed = validateInput(createOrgSchema, input)
      const slug = parsed.slug ?? validateInput(orgSlugSchema.describe('slug'), slugFromName(parsed.name))
      const findBySlug = (executor: Kysely<Database>) => executor.selectFrom('organization').selectAll().where('slug', '=', slug).executeTakeFirst()
      try {
        return await inTransaction(trx ?? db, async (tx) => {
          const ownerId = await decideOwner(tx, actor, parsed, options)
          const existing = await findBySlug(tx)
          if (existing) return {org: await existingOrConflict(tx, actor, existing, parsed), created: false}
          const now = nowIso(deps)
          const row: OrganizationRow = {id: deps.newId(), slug, name: parsed.name, tier: parsed.tier ?? 'free', created_at: now, updated_at: now, deleted_at: null, domain: null, require_2fa: 0, seat_limit: null, rpm_limit: null}
          await tx.insertInto('organization').values(row).execute()
          await audit.append(tx, actor, {action: 'org.created', orgId: row.id, target: {type: 'org', id: row.id}, metadata: {slug, name: row.name, tier: row.tier}})
          if (ownerId) {
            const ownerRole = await requireRoleInOrg(tx, row.id, slug, OWNER_ROLE_KEY)
            await tx.insertInto('membership').values({id: deps.newId(), org_id: row.id, user_id: ownerId, role_id: ownerRole.id, created_at: now, updated_at: now}).execute()
            await audit.append(tx, actor, {action: 'member.added', orgId: row.id, target: {type: 'user', id: ownerId}, metadata: {role: OWNER_ROLE_KEY}})
          }
          return {org: toOrganization(row), created: true}
        })
      } catch (error) {
        // Another process created the same slug between our check and our insert: judge it as if it had been there.
        // Not inside a caller's transaction (trx, or a db that is one: provisioning's services are bound to its
        // transaction): on Postgres a failed statement aborts it, so nothing more can be read there.
        if (isUniqueViolation(error) && !trx && !db.isTransaction) {
          const existing = await findBySlug(db)
          if (existing) return {org: await existingOrConflict(db, actor, existing, parsed), created: false}
        }
        if (isUniqueViolation(error)) throw slugTaken(slug)
        throw error
      }
    },

    /**
     * Platform principals: every organization (soft-deleted ones with includeDeleted). A user:
     * the live organizations they belong to, with their role. An org API key: its organization.
     */
    async listOrgs(actor: Actor, input: ListOrgsInput = {}): Promise<OrganizationSummary[]> {
      const parsed = validateInput(listOrgsSchema, input)
      const {principal} = actor
      if (await isPlatformActor(db, actor)) {
        let query = db.selectFrom('organization').selectAll().orderBy('created_at').orderBy('slug')
        if (!parsed.includeDeleted) query = query.where('deleted_at', 'is', null)
        return summarize(await query.execute(), principal.kind === 'user' ? await rolesOfUserByOrg(db, principal.userId) : null)
      }
      if (principal.kind === 'user') {
        const rows = await db
          .selectFrom('organization')
          .innerJoin('membership', 'membership.org_id', 'organization.id')
          .innerJoin('role', 'role.id', 'membership.role_id')
          .selectAll('organization')
          .select('role.key as role_key')
          .where('membership.user_id', '=', principal.userId)
          .where('organization.deleted_at', 'is', null)
          .orderBy('organization.created_at')
          .orderBy('organization.slug')
          .execute()
        return summarize(rows.map(({role_key: _role, ...row}) => row), new Map(rows.map((row) => [row.id, row.role_key])))
      }
      if (principal.kind === 'api_key' && principal.orgId) {
        const access = await resolveOrgAccess(db, actor, principal.orgId).catch((error: unknown) => {
          if (isDomainError(error) && error.code === 'org.not_found') return null
          throw error
        })
        if (!access) return []
        return summarize([access.org], access.grant.roleKey ? new Map([[access.org.id, access.grant.roleKey]]) : null)
      }
      return []
    },

    /** One organization with its member count (org.read). Operators see soft-deleted ones too. Raises org.not_found, permission.denied, auth.org_mismatch. */
    async showOrg(actor: Actor, input: OrgRefInput): Promise<OrganizationSummary> {
      const {org: ref} = validateInput(orgRefInputSchema, input)
      const access = await requireOrgPermission(db, actor, ref, 'org.read', {deleted: 'operators'})
      return (await summarize([access.org], null))[0]!
    },

    /** The caller's role and effective permissions in the organization, as they are now (any member; no permission needed). */
    async describeAccess(actor: Actor, input: OrgRefInput): Promise<{org: Organization; role: string | null; permissions: string[]}> {
      const {org: ref} = validateInput(orgRefInputSchema, input)
      const access = await resolveOrgAccess(db, actor, ref)
      const permissions = access.grant.isPlatform ? [...PERMISSION_KEYS] : [...access.grant.permissions].sort()
      return {org: toOrganization(access.org), role: access.grant.roleKey, permissions}
    },

    /**
     * Renames an organization or sets whether it requires 2FA of its members (org.update; audited
     * as org.updated with the change). Turning require_2fa on revokes, in the same transaction,
     * the access tokens and sessions bound to it of every member without 2FA (counted in the
     * event's metadata: members_revoked, sessions_revoked); they log in again with 2FA. Tier and domain are for platform principals only
     * (platform.required), so tenants cannot claim domains. A domain is unique
     * (org.domain_taken); null or '' clears it. Raises validation.failed, org.not_found, org.deleted.
     */
    async updateOrg(actor: Actor, input: OrgRefInput & UpdateOrgInput): Promise<Organization> {
      const {org: ref, ...fields} = input
      const {org: orgRef} = validateInput(orgRefInputSchema, {org: ref})
      const parsed = validateInput(updateOrgSchema, fields)
      let hasRevoked = false
      try {
        const result = await inTransaction(db, async (tx) => {
          const access = await requireOrgPermission(tx, actor, orgRef, 'org.update')
          if ((parsed.tier !== undefined || parsed.domain !== undefined) && !access.grant.isPlatform) throw platformRequired('set the tier or the domain')
          const row = access.org
          const requires2fa = Number(row.require_2fa) === 1
          const next = {
            name: parsed.name ?? row.name,
            tier: parsed.tier ?? row.tier,
            domain: parsed.domain === undefined ? row.domain : parsed.domain,
            require_2fa: (parsed.require2fa ?? requires2fa) ? 1 : 0,
          }
          const changes: Record<string, {from: unknown; to: unknown}> = {}
          for (const field of ['name', 'tier', 'domain'] as const) {
            if (next[field] !== row[field]) changes[field] = {from: row[field], to: next[field]}
          }
          if (parsed.require2fa !== undefined && parsed.require2fa !== requires2fa) changes.require_2fa = {from: requires2fa, to: parsed.require2fa}
          if (Object.keys(changes).length === 0) return toOrganization(row)
          if (changes.domain && next.domain) {
            const holder = await findOrgByDomain(tx, next.domain)
            if (holder && holder.id !== row.id) throw domainTaken(next.domain)
          }
          const updated = {...row, ...next, updated_at: nowIso(deps)}
          await tx.updateTable('organization').set({...next, updated_at: updated.updated_at}).where('id', '=', row.id).execute()
          // After the update (which holds the org row): a login binding to it that read require_2fa
          // off has committed its session by now, and is revoked here with the others.
          const revoked = changes.require_2fa && parsed.require2fa ? await revokeMembersWithoutSecondFactor(tx, deps.secondFactor, row.id, {now: updated.updated_at, accessTokenTtlSeconds: deps.accessTokenTtlSeconds}) : null
          hasRevoked = Boolean(revoked && revoked.membersRevoked > 0)
          const counts = revoked ? {members_revoked: revoked.membersRevoked, sessions_revoked: revoked.sessionsRevoked} : {}
          await audit.append(tx, actor, {action: 'org.updated', orgId: row.id, target: {type: 'org', id: row.id}, metadata: {changes, ...counts}})
          return toOrganization(updated)
        })
        if (hasRevoked) await deps.revocationSignal.notify()
        return result
      } catch (error) {
        // The only unique column set here: another org took the domain after our check.
        if (isUniqueViolation(error)) throw domainTaken(parsed.domain ?? '')
        throw error
      }
    },

    ...createOrgLifecycle(deps),
  }
}

function platformRequired(what: string): DomainError {
  return new DomainError('platform.required', `Only an operator or a platform key may ${what}`)
}

function slugTaken(slug: string): DomainError {
  return new DomainError('org.slug_taken', `An organization with slug "${slug}" already exists`)
}

function domainTaken(domain: string): DomainError {
  return new DomainError('org.domain_taken', `The domain "${domain}" already names another organization`)
}

function sameOrgOrConflict(existing: OrganizationRow, name: string, ifNotExists: boolean): OrganizationRow {
  if (!ifNotExists) throw slugTaken(existing.slug)
  if (existing.deleted_at) throw new DomainError('org.slug_taken', `Slug "${existing.slug}" belongs to a deleted organization; restore it with \`saas-ctl org restore ${existing.slug}\``)
  if (existing.name !== name) throw new DomainError('org.slug_taken', `Slug "${existing.slug}" belongs to another organization ("${existing.name}")`)
  return existing
}
