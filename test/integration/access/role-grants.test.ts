import {afterAll, beforeAll, expect, it} from 'vitest'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {createAccessFixtures} from './access-fixtures.js'

describeEachDialect('role service: who may make which role', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())
  const {seedOrg, membershipRevocations, countSignals} = createAccessFixtures(() => t)

  async function customRoles(orgId: string) {
    const rows = await t.core.database.db.selectFrom('role').select(['key', 'name', 'level']).where('org_id', '=', orgId).orderBy('key').execute()
    const permissions = await t.core.database.db.selectFrom('role_permission').innerJoin('role', 'role.id', 'role_permission.role_id').select(['role.key', 'permission_key']).where('role.org_id', '=', orgId).orderBy('role.key').orderBy('permission_key').execute()
    return {rows, permissions}
  }

  /** Runs refused calls and checks that none of them wrote a role, a permission or an audit event. */
  async function expectRefusedWithNothingWritten(orgId: string, calls: [() => Promise<unknown>, string][]) {
    const before = await t.core.audit.latestSeq()
    const roles = await customRoles(orgId)
    for (const [call, code] of calls) await expect(call()).rejects.toMatchObject({code})
    expect(await t.core.audit.latestSeq()).toBe(before)
    expect(await customRoles(orgId)).toEqual(roles)
  }

  it('refuses an admin a custom role with a permission they lack (permission.not_held) or ranked at their level (role.grant_forbidden)', async () => {
    const {org, as} = await seedOrg('admin-creates', {own: 'owner', adm: 'admin'})
    const admin = as('adm')
    await expectRefusedWithNothingWritten(org.id, [
      [() => t.core.roles.createRole(admin, {org: org.slug, key: 'closer', name: 'Closer', permissions: ['org.read', 'org.delete'], level: 1}), 'permission.not_held'],
      [() => t.core.roles.createRole(admin, {org: org.slug, key: 'deputy', name: 'Deputy', permissions: ['org.read'], level: 3}), 'role.grant_forbidden'],
    ])
    expect(await t.core.roles.createRole(admin, {org: org.slug, key: 'support', name: 'Support', permissions: ['members.read', 'audit.read'], level: 2})).toMatchObject({key: 'support', level: 2})
    // An owner holds every permission and may rank a role up to admin.
    expect(await t.core.roles.createRole(as('own'), {org: org.slug, key: 'closer', name: 'Closer', permissions: ['org.delete'], level: 3})).toMatchObject({level: 3})
  })

  it('reads roles with roles.read, changes them with roles.manage only (permission.denied)', async () => {
    const {org, as} = await seedOrg('role-readers', {own: 'owner', mem: 'member', vie: 'viewer'})
    await t.core.roles.createRole(OPERATOR, {org: org.id, key: 'temp', name: 'Temp', permissions: ['org.read']})
    expect((await t.core.roles.listRoles(as('vie'), {org: org.slug})).map((role) => role.key)).toContain('temp')
    expect(await t.core.roles.showRole(as('mem'), {org: org.slug, role: 'TEMP'})).toMatchObject({key: 'temp'})
    await expectRefusedWithNothingWritten(org.id, [
      [() => t.core.roles.createRole(as('mem'), {org: org.slug, key: 'mine', name: 'Mine', permissions: ['org.read']}), 'permission.denied'],
      [() => t.core.roles.updateRole(as('vie'), {org: org.slug, role: 'temp', name: 'Renamed'}), 'permission.denied'],
      [() => t.core.roles.deleteRole(as('mem'), {org: org.slug, role: 'temp'}), 'permission.denied'],
    ])
  })

  it('lets an admin edit or delete only roles below them, and never beyond what they hold', async () => {
    const {org, as} = await seedOrg('admin-edits', {own: 'owner', adm: 'admin'})
    await t.core.roles.createRole(OPERATOR, {org: org.id, key: 'deputy', name: 'Deputy', permissions: ['org.read'], level: 3})
    await t.core.roles.createRole(OPERATOR, {org: org.id, key: 'closer', name: 'Closer', permissions: ['org.delete'], level: 1})
    await t.core.roles.createRole(OPERATOR, {org: org.id, key: 'helper', name: 'Helper', permissions: ['org.read'], level: 1})
    const admin = as('adm')
    await expectRefusedWithNothingWritten(org.id, [
      [() => t.core.roles.updateRole(admin, {org: org.slug, role: 'deputy', name: 'Renamed'}), 'role.grant_forbidden'],
      [() => t.core.roles.deleteRole(admin, {org: org.slug, role: 'deputy'}), 'role.grant_forbidden'],
      [() => t.core.roles.updateRole(admin, {org: org.slug, role: 'closer', name: 'Renamed'}), 'permission.not_held'],
      [() => t.core.roles.updateRole(admin, {org: org.slug, role: 'helper', level: 3}), 'role.grant_forbidden'],
      [() => t.core.roles.updateRole(admin, {org: org.slug, role: 'helper', permissions: ['org.read', 'org.delete']}), 'permission.not_held'],
    ])
    expect(await t.core.roles.updateRole(admin, {org: org.slug, role: 'helper', level: 2, permissions: ['org.read', 'flags.manage']})).toMatchObject({level: 2, permissions: ['flags.manage', 'org.read']})
    expect(await t.core.roles.deleteRole(admin, {org: org.slug, role: 'helper'})).toMatchObject({key: 'helper'})
    expect(await t.core.roles.updateRole(as('own'), {org: org.slug, role: 'deputy', name: 'Second'})).toMatchObject({name: 'Second'})
  })

  it('voids the holders\' tokens bound to the org when a role loses a permission or rank, not when it gains', async () => {
    const {org, users} = await seedOrg('shrinking', {own: 'owner', a: 'member', b: 'member', c: 'viewer'})
    await t.core.roles.createRole(OPERATOR, {org: org.id, key: 'support', name: 'Support', permissions: ['members.read', 'org.read'], level: 2})
    // Moving member → support already takes members.invite away: those revocations come first.
    for (const name of ['a', 'b']) await t.core.members.setMemberRole(OPERATOR, {org: org.id, user: users[name]!.id, role: 'support'})
    const revokedBefore = (await membershipRevocations(org.id)).length
    const revokedSince = async () => (await membershipRevocations(org.id)).slice(revokedBefore)
    const signals = countSignals()
    try {
      await t.core.roles.updateRole(OPERATOR, {org: org.slug, role: 'support', permissions: ['members.read', 'org.read', 'audit.read'], level: 3, name: 'Support+'})
      expect(await revokedSince()).toEqual([])
      expect(signals.count()).toBe(0)
      await t.core.roles.updateRole(OPERATOR, {org: org.slug, role: 'support', permissions: ['org.read', 'audit.read']})
      const holders = [users.a!.id, users.b!.id].sort()
      expect(await revokedSince()).toEqual(holders.map((id) => `${id}:role_reduced`))
      await t.core.roles.updateRole(OPERATOR, {org: org.slug, role: 'support', level: 1})
      expect(await revokedSince()).toHaveLength(4)
      expect(signals.count()).toBe(2)
    } finally {
      signals.stop()
    }
  })

  it('refuses to delete a role a live API key holds (role.in_use); once the key is revoked, the role goes', async () => {
    const {org} = await seedOrg('key-roles', {own: 'owner'})
    const role = await t.core.roles.createRole(OPERATOR, {org: org.id, key: 'robot', name: 'Robot', permissions: ['flags.read']})
    const {key} = await t.core.apiKeys.createApiKey(OPERATOR, {org: org.id, name: 'deployer', role: 'robot'})
    await expectRefusedWithNothingWritten(org.id, [[() => t.core.roles.deleteRole(OPERATOR, {org: org.slug, role: 'robot'}), 'role.in_use']])
    await t.core.apiKeys.revokeApiKey(OPERATOR, {org: org.id, id: key.id})
    expect(await t.core.roles.deleteRole(OPERATOR, {org: org.slug, role: 'robot'})).toMatchObject({id: role.id})
    const keyRow = await t.core.database.db.selectFrom('api_key').select(['role_id', 'revoked_at']).where('id', '=', key.id).executeTakeFirstOrThrow()
    expect(keyRow.role_id).toBeNull()
    expect(keyRow.revoked_at).not.toBeNull()
  })

  it('isolates tenants: a non-member gets org.not_found, a token bound elsewhere auth.org_mismatch', async () => {
    const home = await seedOrg('roles-home', {own: 'owner'})
    const away = await seedOrg('roles-away', {own: 'owner'})
    await t.core.roles.createRole(OPERATOR, {org: home.org.id, key: 'secret-role', name: 'Secret', permissions: ['org.read']})
    await t.core.members.addMember(OPERATOR, {org: away.org.id, user: home.users.own!.id, role: 'viewer'})
    const stranger = away.as('own')
    const misbound = home.boundTo('own', away.org.id)
    await expectRefusedWithNothingWritten(home.org.id, [
      [() => t.core.roles.listRoles(stranger, {org: home.org.slug}), 'org.not_found'],
      [() => t.core.roles.showRole(stranger, {org: home.org.slug, role: 'secret-role'}), 'org.not_found'],
      [() => t.core.roles.createRole(stranger, {org: home.org.slug, key: 'x-role', name: 'X', permissions: ['org.read']}), 'org.not_found'],
      [() => t.core.roles.deleteRole(stranger, {org: home.org.slug, role: 'secret-role'}), 'org.not_found'],
      [() => t.core.roles.listRoles(misbound, {org: home.org.slug}), 'auth.org_mismatch'],
      [() => t.core.roles.updateRole(misbound, {org: home.org.slug, role: 'secret-role', name: 'Y'}), 'auth.org_mismatch'],
    ])
    // The permission catalog is public.
    expect((await t.core.roles.listPermissions()).map((permission) => permission.key)).toContain('roles.manage')
  })
})
