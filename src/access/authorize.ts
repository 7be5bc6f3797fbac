import type {PermissionKey} from './permission-catalog.js'

/**
 * What a principal holds in one organization *now*: resolved inside a service's transaction
 * (see org-access.ts) from the membership, the API key or the platform flag as they are at that
 * moment. The functions below are pure: the whole access rule of the product, in one place.
 */
export interface Grant {
  orgId: string
  /** Operators, platform keys and platform admins: they pass every check, in every org. */
  isPlatform: boolean
  /** The role held (a membership's, or an API key's); null for a key made of a permission list. */
  roleKey: string | null
  /** The role's level (owner 4 … viewer 1); 0 for a permission-list key, which grants no roles. */
  level: number
  permissions: ReadonlySet<string>
}

/** A role as the grant rules see it. */
export interface GrantableRole {
  key: string
  level: number
  isBuiltin: boolean
  permissions: readonly string[]
}

export const OWNER_LEVEL = 4

export type Refusal = {code: 'permission.denied' | 'role.grant_forbidden' | 'permission.not_held'; message: string; details?: Record<string, unknown>}

/** Whether the grant allows `permission` in the organization `orgId`. */
export function can(grant: Grant, permission: PermissionKey, orgId: string): boolean {
  if (grant.isPlatform) return true
  return grant.orgId === orgId && grant.permissions.has(permission)
}

/** Owners (and platform principals) may grant every role, owner included. */
export function isOwnerGrant(grant: Grant): boolean {
  return grant.isPlatform || grant.level >= OWNER_LEVEL
}

/**
 * Whether the grant may hand out `role` (assign it to a member, give it to an API key): only
 * roles below its own level unless it is an owner — so an admin cannot make another admin —
 * and only permissions it holds itself. Null when allowed, else why not.
 */
export function canGrant(grant: Grant, role: GrantableRole): Refusal | null {
  if (isOwnerGrant(grant)) return null
  if (role.level >= grant.level) {
    return {code: 'role.grant_forbidden', message: `Only an owner may grant "${role.key}": it ranks at or above your own role`, details: {role: role.key, level: role.level, your_level: grant.level}}
  }
  return canGrantPermissions(grant, role.permissions)
}

/** Whether the grant holds every permission it wants to put into a custom role or an API key. */
export function canGrantPermissions(grant: Grant, permissions: readonly string[]): Refusal | null {
  if (grant.isPlatform) return null
  const missing = permissions.filter((permission) => !grant.permissions.has(permission))
  if (missing.length === 0) return null
  return {code: 'permission.not_held', message: `You cannot grant permissions you do not hold: ${missing.join(', ')}`, details: {missing}}
}

/**
 * Whether the grant may act on a member who holds `targetLevel` (change their role, remove
 * them): only members below its own level unless it is an owner.
 */
export function canManageMemberAt(grant: Grant, targetLevel: number): Refusal | null {
  if (isOwnerGrant(grant) || targetLevel < grant.level) return null
  return {code: 'role.grant_forbidden', message: 'Only an owner may change a member who ranks at or above you', details: {target_level: targetLevel, your_level: grant.level}}
}
