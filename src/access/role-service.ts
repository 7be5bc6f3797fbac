import type {Kysely} from 'kysely'
import type {Actor} from './principal.js'
import type {Database, RoleRow} from '../db/database.js'
import {isUniqueViolation} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {nowIso} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {canGrant, type GrantableRole} from './authorize.js'
import {inTransactionWithRevocations, isLoss, type AccessServiceDeps} from './member-support.js'
import {requireOrgPermission, throwRefusal, type OrgAccess} from './org-access.js'
import {
  countRoleHolders,
  detachRoleFromRevokedApiKeys,
  findRoleInOrg,
  listPermissionsOfRoles,
  listRoleHolderIds,
  requireRoleInOrg,
  toRole,
  type Role,
} from './role-repo.js'
import {createRoleSchema, roleKeySchema, updateRoleSchema, type CreateRoleInput, type RoleRefInput, type UpdateRoleInput} from './role-schemas.js'

export interface RoleSummary extends Role {
  memberCount: number
}

export type RoleService = ReturnType<typeof createRoleService>

function grantable(row: RoleRow, permissions: string[]): GrantableRole {
  return {key: row.key, level: row.level, isBuiltin: row.is_builtin === 1, permissions}
}

/**
 * The roles of organizations: the built-in ones and each org's custom roles. Reads need
 * roles.read, changes roles.manage, checked inside the call's transaction (org-access.ts).
 * Below owner, a caller only makes or edits roles it could grant: ranked below its own, made
 * of permissions it holds (authorize.ts). Operators pass every check.
 */
export function createRoleService(deps: AccessServiceDeps) {
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

  /** A custom role the caller may change: raises role.not_found, role.builtin_immutable, role.grant_forbidden, permission.not_held. */
  async function requireEditableRole(tx: Kysely<Database>, access: OrgAccess, roleKey: string): Promise<{role: RoleRow; permissions: string[]}> {
    const role = await requireRoleInOrg(tx, access.org.id, access.org.slug, roleKey)
    if (role.is_builtin === 1) throw new DomainError('role.builtin_immutable', `"${role.key}" is a built-in role and cannot be changed`)
    const permissions = (await listPermissionsOfRoles(tx, [role.id])).get(role.id) ?? []
    throwRefusal(canGrant(access.grant, grantable(role, permissions)))
    return {role, permissions}
  }

  async function summarize(tx: Kysely<Database>, rows: RoleRow[], orgId: string): Promise<RoleSummary[]> {
    const permissions = await listPermissionsOfRoles(tx, rows.map((row) => row.id))
    const counts = await tx
      .selectFrom('membership')
      .select(['role_id', (eb) => eb.fn.countAll<number>().as('count')])
      .where('org_id', '=', orgId)
      .groupBy('role_id')
      .execute()
    const countByRole = new Map(counts.map((row) => [row.role_id, Number(row.count)]))
    return rows.map((row) => ({...toRole(row, permissions.get(row.id) ?? []), memberCount: countByRole.get(row.id) ?? 0}))
  }

  return {
    /**
     * The built-in roles and the organization's custom roles, highest level first. Needs
     * roles.read. Raises org.not_found, auth.org_mismatch, permission.denied.
     */
    async listRoles(actor: Actor, input: {org: string}): Promise<RoleSummary[]> {
      return inTransaction(db, async (tx) => {
        const {org} = await requireOrgPermission(tx, actor, input.org, 'roles.read', {deleted: 'operators'})
        const rows = await tx
          .selectFrom('role')
          .selectAll()
          .where((eb) => eb.or([eb('org_id', '=', org.id), eb('org_id', 'is', null)]))
          .orderBy('level', 'desc')
          .orderBy('is_builtin', 'desc')
          .orderBy('key')
          .execute()
        return summarize(tx, rows, org.id)
      })
    },

    /** Needs roles.read. Raises org.not_found, auth.org_mismatch, permission.denied, role.not_found. */
    async showRole(actor: Actor, input: RoleRefInput): Promise<RoleSummary> {
      return inTransaction(db, async (tx) => {
        const {org} = await requireOrgPermission(tx, actor, input.org, 'roles.read', {deleted: 'operators'})
        const row = await requireRoleInOrg(tx, org.id, org.slug, input.role.trim().toLowerCase())
        const [summary] = await summarize(tx, [row], org.id)
        return summary as RoleSummary
      })
    },

    /**
     * Creates a custom role from catalog permissions, ranked below owner. Needs roles.manage;
     * below owner, a level under the caller's own (role.grant_forbidden) and permissions the
     * caller holds (permission.not_held). Raises validation.failed, org.not_found, org.deleted,
     * auth.org_mismatch, permission.denied, role.key_taken, permission.unknown.
     */
    async createRole(actor: Actor, input: CreateRoleInput): Promise<Role> {
      const parsed = validateInput(createRoleSchema, {key: input.key, name: input.name, permissions: input.permissions, level: input.level})
      try {
        return await inTransaction(db, async (tx) => {
          const access = await requireOrgPermission(tx, actor, input.org, 'roles.manage', {lockOrg: true})
          const {org} = access
          if (await findRoleInOrg(tx, org.id, parsed.key)) throw new DomainError('role.key_taken', `A role "${parsed.key}" already exists in "${org.slug}"`)
          await ensureKnownPermissions(tx, parsed.permissions)
          throwRefusal(canGrant(access.grant, {key: parsed.key, level: parsed.level, isBuiltin: false, permissions: parsed.permissions}))
          const now = nowIso(deps)
          const row: RoleRow = {id: deps.newId(), org_id: org.id, key: parsed.key, name: parsed.name, level: parsed.level, is_builtin: 0, created_at: now, updated_at: now}
          await tx.insertInto('role').values(row).execute()
          await tx.insertInto('role_permission').values(parsed.permissions.map((permission_key) => ({role_id: row.id, permission_key}))).execute()
          await audit.append(tx, actor, {action: 'role.created', orgId: org.id, target: {type: 'role', id: row.id}, metadata: {key: row.key, name: row.name, level: row.level, permissions: parsed.permissions}})
          return toRole(row, parsed.permissions)
        })
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError('role.key_taken', `A role "${parsed.key}" already exists in "${input.org}"`)
        throw error
      }
    },

    /**
     * Changes a custom role's name, level or permissions (replacing the set). Needs
     * roles.manage; below owner, the role must rank below the caller, before and after, and
     * hold only permissions the caller holds. When the change takes something away, the
     * holders' tokens bound to the org are voided. Raises validation.failed, org.not_found,
     * org.deleted, auth.org_mismatch, permission.denied, role.not_found, role.builtin_immutable,
     * role.grant_forbidden, permission.not_held, permission.unknown.
     */
    async updateRole(actor: Actor, input: UpdateRoleInput): Promise<Role> {
      const parsed = validateInput(updateRoleSchema, {name: input.name, permissions: input.permissions, level: input.level})
      const key = validateInput(roleKeySchema, input.role)
      return inTransactionWithRevocations(deps, async (tx, revoke) => {
        const access = await requireOrgPermission(tx, actor, input.org, 'roles.manage', {lockOrg: true})
        const {role, permissions: current} = await requireEditableRole(tx, access, key)
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
        throwRefusal(canGrant(access.grant, grantable(updated, permissions)))
        if (Object.keys(changes).length === 0) return toRole(updated, permissions)
        updated.updated_at = nowIso(deps)
        await tx.updateTable('role').set({name: updated.name, level: updated.level, updated_at: updated.updated_at}).where('id', '=', role.id).execute()
        if (changes.permissions) {
          await tx.deleteFrom('role_permission').where('role_id', '=', role.id).execute()
          await tx.insertInto('role_permission').values(permissions.map((permission_key) => ({role_id: role.id, permission_key}))).execute()
        }
        if (role.org_id && isLoss(grantable(role, current), grantable(updated, permissions))) await revoke(role.org_id, await listRoleHolderIds(tx, role.id), 'role_reduced')
        await audit.append(tx, actor, {action: 'role.updated', orgId: role.org_id, target: {type: 'role', id: role.id}, metadata: {key: role.key, changes}})
        return toRole(updated, permissions)
      })
    },

    /**
     * Deletes a custom role that no member and no live API key holds. Needs roles.manage and,
     * below owner, a role the caller could grant. Raises org.not_found, org.deleted,
     * auth.org_mismatch, permission.denied, role.not_found, role.builtin_immutable,
     * role.grant_forbidden, permission.not_held, role.in_use.
     */
    async deleteRole(actor: Actor, input: RoleRefInput): Promise<Role> {
      return inTransaction(db, async (tx) => {
        const access = await requireOrgPermission(tx, actor, input.org, 'roles.manage', {lockOrg: true})
        const {role, permissions} = await requireEditableRole(tx, access, input.role.trim().toLowerCase())
        const holders = await countRoleHolders(tx, role.id)
        if (holders.members + holders.apiKeys > 0) {
          const held = holders.apiKeys === 0 ? `${holders.members} member(s)` : `${holders.members} member(s) and ${holders.apiKeys} API key(s)`
          throw new DomainError('role.in_use', `Role "${role.key}" is held by ${held} of "${access.org.slug}"; give them another role first`)
        }
        await detachRoleFromRevokedApiKeys(tx, role.id)
        await tx.deleteFrom('role_permission').where('role_id', '=', role.id).execute()
        await tx.deleteFrom('role').where('id', '=', role.id).execute()
        await audit.append(tx, actor, {action: 'role.deleted', orgId: role.org_id, target: {type: 'role', id: role.id}, metadata: {key: role.key, permissions}})
        return toRole(role, permissions)
      })
    },

    /** The permission catalog: public, no principal needed. */
    async listPermissions(): Promise<{key: string; description: string}[]> {
      return db.selectFrom('permission').selectAll().orderBy('key').execute()
    },
  }
}
