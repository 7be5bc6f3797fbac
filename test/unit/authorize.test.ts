import {describe, expect, it} from 'vitest'
import {can, canGrant, canGrantPermissions, canManageMemberAt, isOwnerGrant, type Grant, type GrantableRole} from '../../src/access/authorize.js'
import {BUILTIN_ROLES, PERMISSION_KEYS} from '../../src/access/permission-catalog.js'

const ORG = 'org-1'

function grantOf(roleKey: string): Grant {
  const role = BUILTIN_ROLES.find((builtin) => builtin.key === roleKey)
  if (!role) throw new Error(roleKey)
  return {orgId: ORG, isPlatform: false, roleKey, level: role.level, permissions: new Set(role.permissions)}
}

function builtin(roleKey: string): GrantableRole {
  const role = BUILTIN_ROLES.find((candidate) => candidate.key === roleKey)!
  return {key: role.key, level: role.level, isBuiltin: true, permissions: role.permissions}
}

const PLATFORM: Grant = {orgId: ORG, isPlatform: true, roleKey: null, level: Number.POSITIVE_INFINITY, permissions: new Set()}
/** An API key made of a permission list: level 0, it grants no roles. */
const PERMISSION_KEY: Grant = {orgId: ORG, isPlatform: false, roleKey: null, level: 0, permissions: new Set(['members.read', 'members.update_role'])}

describe('can', () => {
  it('allows exactly the permissions held, and only in the grant\'s own org', () => {
    const viewer = grantOf('viewer')
    expect(can(viewer, 'members.read', ORG)).toBe(true)
    expect(can(viewer, 'members.update_role', ORG)).toBe(false)
    expect(can(viewer, 'members.read', 'org-2')).toBe(false)
  })

  it('lets platform principals do everything everywhere', () => {
    for (const permission of PERMISSION_KEYS) expect(can(PLATFORM, permission, 'any-org')).toBe(true)
  })
})

describe('canGrant', () => {
  // Rows: who grants; columns: the role granted. null = allowed.
  const table: [string, Record<string, string | null>][] = [
    ['owner', {owner: null, admin: null, member: null, viewer: null}],
    ['admin', {owner: 'role.grant_forbidden', admin: 'role.grant_forbidden', member: null, viewer: null}],
    ['member', {owner: 'role.grant_forbidden', admin: 'role.grant_forbidden', member: 'role.grant_forbidden', viewer: null}],
    ['viewer', {owner: 'role.grant_forbidden', admin: 'role.grant_forbidden', member: 'role.grant_forbidden', viewer: 'role.grant_forbidden'}],
  ]
  for (const [granter, expected] of table) {
    for (const [role, code] of Object.entries(expected)) {
      it(`${granter} granting ${role}: ${code ?? 'allowed'}`, () => {
        expect(canGrant(grantOf(granter), builtin(role))?.code ?? null).toBe(code)
      })
    }
  }

  it('refuses a role below the granter that holds a permission the granter lacks (permission.not_held), naming it', () => {
    const role: GrantableRole = {key: 'closer', level: 1, isBuiltin: false, permissions: ['org.delete', 'org.read']}
    expect(canGrant(grantOf('admin'), role)).toMatchObject({code: 'permission.not_held', details: {missing: ['org.delete']}})
    expect(canGrant(grantOf('owner'), role)).toBeNull()
  })

  it('lets a permission-list key grant no role at all, and platform principals any', () => {
    expect(canGrant(PERMISSION_KEY, builtin('viewer'))?.code).toBe('role.grant_forbidden')
    expect(canGrant(PLATFORM, builtin('owner'))).toBeNull()
  })
})

describe('canGrantPermissions', () => {
  it('allows a subset of what is held, and refuses the rest with the missing ones', () => {
    expect(canGrantPermissions(grantOf('member'), ['org.read', 'flags.read'])).toBeNull()
    expect(canGrantPermissions(grantOf('member'), ['org.read', 'audit.read', 'flags.manage'])).toMatchObject({code: 'permission.not_held', details: {missing: ['audit.read', 'flags.manage']}})
    expect(canGrantPermissions(PLATFORM, [...PERMISSION_KEYS])).toBeNull()
  })
})

describe('canManageMemberAt', () => {
  it('lets non-owners act only on members ranked below them; owners and platform on anyone', () => {
    expect(canManageMemberAt(grantOf('admin'), 2)).toBeNull()
    expect(canManageMemberAt(grantOf('admin'), 3)?.code).toBe('role.grant_forbidden')
    expect(canManageMemberAt(grantOf('admin'), 4)?.code).toBe('role.grant_forbidden')
    expect(canManageMemberAt(grantOf('owner'), 4)).toBeNull()
    expect(canManageMemberAt(PLATFORM, 4)).toBeNull()
  })

  it('counts owners and platform principals as owners, nobody else', () => {
    expect([isOwnerGrant(grantOf('owner')), isOwnerGrant(PLATFORM), isOwnerGrant(grantOf('admin')), isOwnerGrant(PERMISSION_KEY)]).toEqual([true, true, false, false])
  })
})
