import type {Kysely} from 'kysely'
import type {Actor} from './principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database, RoleRow} from '../db/database.js'
import {isUniqueViolation} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {requireOrg} from '../tenancy/org-repo.js'
import {findRoleInOrg, listPermissionsOfRoles, requireRoleInOrg, toRole, type Role} from './role-repo.js'
import {createRoleSchema, roleKeySchema, updateRoleSchema, type CreateRoleInput, type UpdateRoleInput} from './role-schemas.js'

export interface RoleSummary extends Role {
  memberCount: number
}

export type RoleService = ReturnType<typeof createRoleService>

export function createRoleService(deps: ServiceDeps & {audit: AuditLog}) {
  const {db, audit} = deps

  /** Raises permission.unknown naming every key that is not in the catalog. */
  async function ensureKnownPermissions(tx: Kysely<Database>, keys: string[]): Promise<void> {
    const known = await tx.selectFrom('permission').select('key').where('key', 'in', keys).execute()
    const knownKeys = new Set(known.map((row) => row.key))
    const unknown = keys.filter((key) => !knownKeys.has(key))
    if (unknown.length > 0) {
      throw new DomainError('permission.unknown', `Unknown permission(s): ${unknown.join(', ')} (see \`saas-ctl permission list\`)`, {unknown})
    }
  }

  async function requireCustomRole(tx: Kysely<Database>, orgRef: string, roleKey: string): Promise<{role: RoleRow; orgSlug: string}> {
    const org = await requireOrg(tx, orgRef)
    const role = await requireRoleInOrg(tx, org.id, org.slug, roleKey)
    if (role.is_builtin === 1) throw new DomainError('role.builtin_immutable', `"${role.key}" is a built-in role and cannot be changed`)
    return {role, orgSlug: org.slug}
  }

  async function summarize(rows: RoleRow[], orgId: string): Promise<RoleSummary[]> {
    const permissions = await listPermissionsOfRoles(db, rows.map((row) => row.id))
    const counts = await db
      .selectFrom('membership')
      .select(['role_id', (eb) => eb.fn.countAll<number>().as('count')])
      .where('org_id', '=', orgId)
      .groupBy('role_id')
      .execute()
    const countByRole = new Map(counts.map((row) => [row.role_id, Number(row.count)]))
    return rows.map((row) => ({...toRole(row, permissions.get(row.id) ?? []), memberCount: countByRole.get(row.id) ?? 0}))
  }

  return {
    /** The built-in roles and the organization's custom roles, highest level first. Raises org.not_found. */
    async listRoles(orgRef: string): Promise<RoleSummary[]> {
      const org = await requireOrg(db, orgRef, {allowDeleted: true})
      const rows = await db
        .selectFrom('role')
        .selectAll()
        .where((eb) => eb.or([eb('org_id', '=', org.id), eb('org_id', 'is', null)]))
        .orderBy('level', 'desc')
        .orderBy('is_builtin', 'desc')
        .orderBy('key')
        .execute()
      return summarize(rows, org.id)
    },

    /** Raises org.not_found, role.not_found. */
    async showRole(orgRef: string, roleKey: string): Promise<RoleSummary> {
      const org = await requireOrg(db, orgRef, {allowDeleted: true})
      const row = await requireRoleInOrg(db, org.id, org.slug, roleKey.trim().toLowerCase())
      const [summary] = await summarize([row], org.id)
      return summary as RoleSummary
    },

    /**
     * Creates a custom role from catalog permissions, ranked below owner. Raises
     * validation.failed, org.not_found, org.deleted, role.key_taken, permission.unknown.
     */
    async createRole(actor: Actor, orgRef: string, input: CreateRoleInput): Promise<Role> {
      const parsed = validateInput(createRoleSchema, input)
      try {
        return await inTransaction(db, async (tx) => {
          const org = await requireOrg(tx, orgRef)
          if (await findRoleInOrg(tx, org.id, parsed.key)) throw new DomainError('role.key_taken', `A role "${parsed.key}" already exists in "${org.slug}"`)
          await ensureKnownPermissions(tx, parsed.permissions)
          const now = nowIso(deps)
          const row: RoleRow = {id: deps.newId(), org_id: org.id, key: parsed.key, name: parsed.name, level: parsed.level, is_builtin: 0, created_at: now, updated_at: now}
          await tx.insertInto('role').values(row).execute()
          await tx.insertInto('role_permission').values(parsed.permissions.map((permission_key) => ({role_id: row.id, permission_key}))).execute()
          await audit.append(tx, actor, {action: 'role.created', orgId: org.id, target: {type: 'role', id: row.id}, metadata: {key: row.key, name: row.name, level: row.level, permissions: parsed.permissions}})
          return toRole(row, parsed.permissions)
        })
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError('role.key_taken', `A role "${parsed.key}" already exists in "${orgRef}"`)
        throw error
      }
    },

    /**
     * Changes a custom role's name, level or permissions (replacing the set). Raises
     * validation.failed, org.not_found, org.deleted, role.not_found, role.builtin_immutable, permission.unknown.
     */
    async updateRole(actor: Actor, orgRef: string, roleKey: string, input: UpdateRoleInput): Promise<Role> {
      const parsed = validateInput(updateRoleSchema, input)
      const key = validateInput(roleKeySchema, roleKey)
      return inTransaction(db, async (tx) => {
        const {role} = await requireCustomRole(tx, orgRef, key)
        const current = (await listPermissionsOfRoles(tx, [role.id])).get(role.id) ?? []
        const changes: Record<string, unknown> = {}
        if (parsed.name !== undefined && parsed.name !== role.name) changes.name = {from: role.name, to: parsed.name}
        if (parsed.level !== undefined && parsed.level !== role.level) changes.level = {from: role.level, to: parsed.level}
        const permissions = parsed.permissions ?? current
        if (parsed.permissions) {
          await ensureKnownPermissions(tx, parsed.permissions)
          const added = permissions.filter((permission) => !current.includes(permission))
          const removed = current.filter((permission) => !permissions.includes(permission))
          if (added.length + removed.length > 0) changes.permissions = {added, removed}
        }
        const updated = {...role, name: parsed.name ?? role.name, level: parsed.level ?? role.level}
        if (Object.keys(changes).length === 0) return toRole(updated, permissions)
        updated.updated_at = nowIso(deps)
        await tx.updateTable('role').set({name: updated.name, level: updated.level, updated_at: updated.updated_at}).where('id', '=', role.id).execute()
        if (changes.permissions) {
          await tx.deleteFrom('role_permission').where('role_id', '=', role.id).execute()
          await tx.insertInto('role_permission').values(permissions.map((permission_key) => ({role_id: role.id, permission_key}))).execute()
        }
        await audit.append(tx, actor, {action: 'role.updated', orgId: role.org_id, target: {type: 'role', id: role.id}, metadata: {key: role.key, changes}})
        return toRole(updated, permissions)
      })
    },

    /** Deletes a custom role no member holds. Raises org.not_found, org.deleted, role.not_found, role.builtin_immutable, role.in_use. */
    async deleteRole(actor: Actor, orgRef: string, roleKey: string): Promise<Role> {
      return inTransaction(db, async (tx) => {
        const {role, orgSlug} = await requireCustomRole(tx, orgRef, roleKey.trim().toLowerCase())
        const holders = await tx.selectFrom('membership').select((eb) => eb.fn.countAll<number>().as('count')).where('role_id', '=', role.id).executeTakeFirstOrThrow()
        if (Number(holders.count) > 0) throw new DomainError('role.in_use', `Role "${role.key}" is held by ${holders.count} member(s) of "${orgSlug}"; give them another role first`)
        const permissions = (await listPermissionsOfRoles(tx, [role.id])).get(role.id) ?? []
        await tx.deleteFrom('role_permission').where('role_id', '=', role.id).execute()
        await tx.deleteFrom('role').where('id', '=', role.id).execute()
        await audit.append(tx, actor, {action: 'role.deleted', orgId: role.org_id, target: {type: 'role', id: role.id}, metadata: {key: role.key, permissions}})
        return toRole(role, permissions)
      })
    },

    /** The permission catalog. */
    async listPermissions(): Promise<{key: string; description: string}[]> {
      return db.selectFrom('permission').selectAll().orderBy('key').execute()
    },
  }
}
