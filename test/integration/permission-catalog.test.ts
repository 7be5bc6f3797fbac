import {afterAll, beforeAll, expect, it} from 'vitest'
import {BUILTIN_ROLES, PERMISSION_KEYS} from '../../src/access/permission-catalog.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

describeEachDialect('permission catalog', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  it('the database holds exactly the permissions of src/access/permission-catalog.ts, each described', async () => {
    const permissions = await t.core.roles.listPermissions()
    expect(permissions.map((permission) => permission.key).sort()).toEqual([...PERMISSION_KEYS].sort())
    for (const permission of permissions) expect(permission.description.trim(), permission.key).not.toBe('')
  })

  it('the database holds exactly the built-in roles of the catalog, with their levels and permissions', async () => {
    const rows = await t.core.database.db.selectFrom('role').selectAll().where('is_builtin', '=', 1).execute()
    const grants = await t.core.database.db.selectFrom('role_permission').selectAll().where('role_id', 'in', rows.map((row) => row.id)).execute()
    const actual = rows
      .map((row) => ({
        key: row.key,
        level: row.level,
        orgId: row.org_id,
        permissions: grants.filter((grant) => grant.role_id === row.id).map((grant) => grant.permission_key).sort(),
      }))
      .sort((a, b) => b.level - a.level)
    const expected = BUILTIN_ROLES.map((role) => ({key: role.key, level: role.level, orgId: null, permissions: [...role.permissions].sort()})).sort((a, b) => b.level - a.level)
    expect(actual).toEqual(expected)
  })

  it('every organization sees the catalog\'s built-in roles through the role service', async () => {
    await t.core.orgs.createOrg(OPERATOR, {name: 'Catalog Org', slug: 'catalog-org'})
    const roles = await t.core.roles.listRoles(OPERATOR, {org: 'catalog-org'})
    expect(roles.map((role) => ({key: role.key, level: role.level, isBuiltin: role.isBuiltin, permissions: role.permissions}))).toEqual(
      BUILTIN_ROLES.map((role) => ({key: role.key, level: role.level, isBuiltin: true, permissions: [...role.permissions].sort()})),
    )
  })
})
