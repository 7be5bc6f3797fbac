import {describe, expect, it} from 'vitest'
import {BUILTIN_ROLES, CUSTOM_ROLE_MAX_LEVEL, PERMISSION_KEYS} from '../../src/access/permission-catalog.js'

describe('permission catalog', () => {
  it('has unique resource.action keys', () => {
    expect(new Set(PERMISSION_KEYS).size).toBe(PERMISSION_KEYS.length)
    for (const key of PERMISSION_KEYS) expect(key).toMatch(/^[a-z]+\.[a-z_]+$/)
  })

  it('ranks the built-in roles owner > admin > member > viewer', () => {
    expect(BUILTIN_ROLES.map((role) => [role.key, role.level])).toEqual([
      ['owner', 4],
      ['admin', 3],
      ['member', 2],
      ['viewer', 1],
    ])
  })

  it('gives the owner every permission and each lower role a subset of the role above', () => {
    const [owner, ...lower] = BUILTIN_ROLES
    expect([...(owner?.permissions ?? [])].sort()).toEqual([...PERMISSION_KEYS].sort())
    let above = new Set(owner?.permissions)
    for (const role of lower) {
      for (const permission of role.permissions) expect(above.has(permission), `${role.key}: ${permission}`).toBe(true)
      expect(role.permissions.length).toBeLessThan(above.size)
      above = new Set(role.permissions)
    }
  })

  it('keeps org.delete for the owner alone', () => {
    expect(BUILTIN_ROLES.filter((role) => role.permissions.includes('org.delete')).map((role) => role.key)).toEqual(['owner'])
  })

  it('ranks custom roles strictly below owner', () => {
    const ownerLevel = BUILTIN_ROLES.find((role) => role.key === 'owner')?.level ?? 0
    expect(CUSTOM_ROLE_MAX_LEVEL).toBeLessThan(ownerLevel)
    expect(CUSTOM_ROLE_MAX_LEVEL).toBeGreaterThanOrEqual(1)
  })
})
