import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Actor} from '../../../src/access/principal.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {createAccessFixtures} from './access-fixtures.js'

describeEachDialect('member service: who may change whom', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())
  const {seedOrg, newUser, roleTable, membershipRevocations, countSignals} = createAccessFixtures(() => t)

  /** Runs refused calls and checks that none of them wrote anything. */
  async function expectRefusedWithNothingWritten(org: string, calls: [() => Promise<unknown>, string][]) {
    const before = await t.core.audit.latestSeq()
    const roles = await roleTable(org)
    for (const [call, code] of calls) await expect(call()).rejects.toMatchObject({code})
    expect(await t.core.audit.latestSeq()).toBe(before)
    expect(await roleTable(org)).toEqual(roles)
  }

  it('a viewer and a member read the members but change no role (permission.denied), nothing written', async () => {
    const {org, users, as} = await seedOrg('viewers', {own: 'owner', mem: 'member', vie: 'viewer'})
    expect((await t.core.members.listMembers(as('vie'), {org: org.slug})).items).toHaveLength(3)
    await expectRefusedWithNothingWritten(org.id, [
      [() => t.core.members.setMemberRole(as('vie'), {org: org.slug, user: users.mem!.id, role: 'viewer'}), 'permission.denied'],
      [() => t.core.members.setMemberRole(as('mem'), {org: org.slug, user: users.vie!.id, role: 'member'}), 'permission.denied'],
      [() => t.core.members.removeMember(as('vie'), {org: org.slug, user: users.mem!.id}), 'permission.denied'],
      [() => t.core.members.removeMember(as('mem'), {org: org.slug, user: users.vie!.id}), 'permission.denied'],
    ])
  })

  it('an admin grants neither owner nor admin, and changes or removes no other admin or owner (role.grant_forbidden)', async () => {
    const {org, users, as} = await seedOrg('admins', {own: 'owner', adm: 'admin', adm2: 'admin', mem: 'member'})
    const admin = as('adm')
    await expectRefusedWithNothingWritten(org.id, [
      [() => t.core.members.setMemberRole(admin, {org: org.slug, user: users.mem!.id, role: 'owner'}), 'role.grant_forbidden'],
      [() => t.core.members.setMemberRole(admin, {org: org.slug, user: users.mem!.id, role: 'admin'}), 'role.grant_forbidden'],
      [() => t.core.members.setMemberRole(admin, {org: org.slug, user: users.adm2!.id, role: 'member'}), 'role.grant_forbidden'],
      [() => t.core.members.setMemberRole(admin, {org: org.slug, user: users.own!.id, role: 'member'}), 'role.grant_forbidden'],
      [() => t.core.members.setMemberRole(admin, {org: org.slug, user: users.adm!.id, role: 'owner'}), 'role.grant_forbidden'],
      [() => t.core.members.removeMember(admin, {org: org.slug, user: users.adm2!.id}), 'role.grant_forbidden'],
      [() => t.core.members.removeMember(admin, {org: org.slug, user: users.own!.id}), 'role.grant_forbidden'],
    ])
    expect(await membershipRevocations(org.id)).toEqual([])
    // Below their own rank they may: the refusals above are the rule, not a broken admin.
    expect(await t.core.members.setMemberRole(admin, {org: org.slug, user: users.mem!.id, role: 'viewer'})).toMatchObject({role: 'viewer'})
    await t.core.members.removeMember(admin, {org: org.slug, user: users.mem!.id})
    expect(Object.values(await roleTable(org.id)).sort()).toEqual(['admin', 'admin', 'owner'])
  })

  it('an admin grants no custom role ranked at their level, nor one holding a permission they lack', async () => {
    const {org, users, as} = await seedOrg('admin-custom', {own: 'owner', adm: 'admin', mem: 'member'})
    await t.core.roles.createRole(OPERATOR, {org: org.id, key: 'deputy', name: 'Deputy', permissions: ['org.read'], level: 3})
    await t.core.roles.createRole(OPERATOR, {org: org.id, key: 'closer', name: 'Closer', permissions: ['org.read', 'org.delete'], level: 2})
    await t.core.roles.createRole(OPERATOR, {org: org.id, key: 'reader', name: 'Reader', permissions: ['org.read', 'audit.read'], level: 2})
    await expectRefusedWithNothingWritten(org.id, [
      [() => t.core.members.setMemberRole(as('adm'), {org: org.slug, user: users.mem!.id, role: 'deputy'}), 'role.grant_forbidden'],
      [() => t.core.members.setMemberRole(as('adm'), {org: org.slug, user: users.mem!.id, role: 'closer'}), 'permission.not_held'],
    ])
    expect(await t.core.members.setMemberRole(as('adm'), {org: org.slug, user: users.mem!.id, role: 'reader'})).toMatchObject({role: 'reader'})
    // The owner holds everything and may grant either.
    expect(await t.core.members.setMemberRole(as('own'), {org: org.slug, user: users.mem!.id, role: 'closer'})).toMatchObject({role: 'closer'})
  })

  it('an owner makes owners, and demotes another owner', async () => {
    const {org, users, as} = await seedOrg('owners', {own: 'owner', adm: 'admin'})
    expect(await t.core.members.setMemberRole(as('own'), {org: org.slug, user: users.adm!.id, role: 'owner'})).toMatchObject({role: 'owner'})
    expect(await t.core.members.setMemberRole(as('adm'), {org: org.slug, user: users.own!.id, role: 'viewer'})).toMatchObject({role: 'viewer'})
    expect(await roleTable(org.id)).toEqual({[users.own!.email]: 'viewer', [users.adm!.email]: 'owner'})
  })

  it('a non-member gets org.not_found, as for an org that does not exist; nothing leaks', async () => {
    const {org, users} = await seedOrg('isolated', {own: 'owner', mem: 'member'})
    const other = await seedOrg('elsewhere', {own: 'owner'})
    const outsider = other.as('own')
    const calls: [() => Promise<unknown>, string][] = [
      [() => t.core.members.listMembers(outsider, {org: org.slug}), 'org.not_found'],
      [() => t.core.members.listMembers(outsider, {org: org.id}), 'org.not_found'],
      [() => t.core.members.setMemberRole(outsider, {org: org.slug, user: users.mem!.id, role: 'viewer'}), 'org.not_found'],
      [() => t.core.members.removeMember(outsider, {org: org.slug, user: users.mem!.id}), 'org.not_found'],
      [() => t.core.members.transferOwnership(outsider, {org: org.slug, user: users.mem!.id}), 'org.not_found'],
      [() => t.core.members.leaveOrg(outsider, {org: org.slug}), 'org.not_found'],
      [() => t.core.members.listMembers(outsider, {org: 'no-such-org'}), 'org.not_found'],
    ]
    await expectRefusedWithNothingWritten(org.id, calls)
  })

  it('a member whose token is bound to another org, or to none, gets auth.org_mismatch', async () => {
    const home = await seedOrg('bound-home', {own: 'owner', mem: 'member'})
    const away = await seedOrg('bound-away', {own: 'owner'})
    await t.core.members.addMember(OPERATOR, {org: away.org.id, user: home.users.own!.id, role: 'admin'})
    for (const actor of [home.boundTo('own', away.org.id), home.boundTo('own', null)]) {
      await expectRefusedWithNothingWritten(home.org.id, [
        [() => t.core.members.listMembers(actor, {org: home.org.slug}), 'auth.org_mismatch'],
        [() => t.core.members.setMemberRole(actor, {org: home.org.slug, user: home.users.mem!.id, role: 'viewer'}), 'auth.org_mismatch'],
        [() => t.core.members.removeMember(actor, {org: home.org.slug, user: home.users.mem!.id}), 'auth.org_mismatch'],
      ])
    }
    // The same user, bound to the other org, acts there with the role held there.
    expect((await t.core.members.listMembers(home.boundTo('own', away.org.id), {org: away.org.slug})).items).toHaveLength(2)
  })

  it('after a demotion, the next call of the same actor is judged by the new role; after removal, the org is gone to them', async () => {
    const {org, users, as} = await seedOrg('demoted', {own: 'owner', adm: 'admin', mem: 'member', vie: 'viewer'})
    const admin = as('adm')
    await t.core.members.setMemberRole(admin, {org: org.slug, user: users.vie!.id, role: 'member'})
    await t.core.members.setMemberRole(as('own'), {org: org.slug, user: users.adm!.id, role: 'viewer'})
    await expect(t.core.members.setMemberRole(admin, {org: org.slug, user: users.vie!.id, role: 'viewer'})).rejects.toMatchObject({code: 'permission.denied'})
    expect((await t.core.members.listMembers(admin, {org: org.slug})).items).toHaveLength(4)
    await t.core.members.removeMember(as('own'), {org: org.slug, user: users.adm!.id})
    await expect(t.core.members.listMembers(admin, {org: org.slug})).rejects.toMatchObject({code: 'org.not_found'})
  })

  it('a demotion or a removal voids the member\'s tokens bound to the org and tells this process after commit; a promotion or a refusal does not', async () => {
    const {org, users, as} = await seedOrg('revoking', {own: 'owner', adm: 'admin', mem: 'member', vie: 'viewer'})
    const signals = countSignals()
    try {
      await t.core.members.setMemberRole(as('own'), {org: org.slug, user: users.vie!.id, role: 'member'})
      await expect(t.core.members.setMemberRole(as('adm'), {org: org.slug, user: users.own!.id, role: 'viewer'})).rejects.toMatchObject({code: 'role.grant_forbidden'})
      expect(await membershipRevocations(org.id)).toEqual([])
      expect(signals.count()).toBe(0)
      await t.core.members.setMemberRole(as('own'), {org: org.slug, user: users.adm!.id, role: 'member'})
      await t.core.members.removeMember(as('own'), {org: org.slug, user: users.mem!.id})
      expect(await membershipRevocations(org.id)).toEqual([`${users.adm!.id}:member_role_changed`, `${users.mem!.id}:member_removed`])
      expect(signals.count()).toBe(2)
    } finally {
      signals.stop()
    }
  })

  it('tells tenants member.not_found for an unknown account (no probing of emails), operators user.not_found', async () => {
    const {org, as} = await seedOrg('probing', {own: 'owner'})
    const stranger = await newUser('stranger')
    for (const user of ['nobody@example.com', stranger.email]) {
      await expect(t.core.members.setMemberRole(as('own'), {org: org.slug, user, role: 'viewer'})).rejects.toMatchObject({code: 'member.not_found'})
      await expect(t.core.members.removeMember(as('own'), {org: org.slug, user})).rejects.toMatchObject({code: 'member.not_found'})
    }
    await expect(t.core.members.setMemberRole(OPERATOR, {org: org.slug, user: 'nobody@example.com', role: 'viewer'})).rejects.toMatchObject({code: 'user.not_found'})
  })

  it('adds members directly for platform principals only (platform.required for an owner or an org key)', async () => {
    const {org, as} = await seedOrg('direct-add', {own: 'owner'})
    const joiner = await newUser('joiner')
    const {key} = await t.core.apiKeys.createApiKey(OPERATOR, {org: org.id, name: 'ci', role: 'admin'})
    const orgKey: Actor = {principal: {kind: 'api_key', keyId: key.id, name: 'ci', orgId: org.id}, origin: {}}
    await expectRefusedWithNothingWritten(org.id, [
      [() => t.core.members.addMember(as('own'), {org: org.slug, user: joiner.id, role: 'member'}), 'platform.required'],
      [() => t.core.members.addMember(orgKey, {org: org.slug, user: joiner.id, role: 'member'}), 'platform.required'],
    ])
    const {key: platformKey} = await t.core.apiKeys.createPlatformKey(OPERATOR, {name: `provisioning-${dialect}`})
    const platform: Actor = {principal: {kind: 'api_key', keyId: platformKey.id, name: 'provisioning', orgId: null}, origin: {}}
    expect(await t.core.members.addMember(platform, {org: org.slug, user: joiner.id, role: 'member'})).toMatchObject({role: 'member'})
  })

  it('an org API key passes the same checks as a member of its role, and is a stranger elsewhere', async () => {
    const {org, users} = await seedOrg('keyed', {own: 'owner', adm: 'admin', vie: 'viewer'})
    const other = await seedOrg('keyed-other', {own: 'owner', vie: 'viewer'})
    const keyActor = async (role: string): Promise<Actor> => {
      const {key} = await t.core.apiKeys.createApiKey(OPERATOR, {org: org.id, name: `key-${role}`, role})
      return {principal: {kind: 'api_key', keyId: key.id, name: key.name, orgId: org.id}, origin: {}}
    }
    const memberKey = await keyActor('member')
    const adminKey = await keyActor('admin')
    await expectRefusedWithNothingWritten(org.id, [
      [() => t.core.members.setMemberRole(memberKey, {org: org.slug, user: users.vie!.id, role: 'member'}), 'permission.denied'],
      [() => t.core.members.setMemberRole(adminKey, {org: org.slug, user: users.adm!.id, role: 'member'}), 'role.grant_forbidden'],
      [() => t.core.members.setMemberRole(adminKey, {org: other.org.slug, user: other.users.vie!.id, role: 'member'}), 'org.not_found'],
    ])
    expect(await t.core.members.setMemberRole(adminKey, {org: org.slug, user: users.vie!.id, role: 'member'})).toMatchObject({role: 'member'})
  })

  describe('listMembers pages', () => {
    it('walks every member once by cursor, filters by role, and refuses a bad limit, cursor or role', async () => {
      // Six members: more than the free tier's five seats.
      const {org, as} = await seedOrg('paged', {own: 'owner', a: 'member', b: 'viewer', c: 'member', d: 'member', e: 'viewer'}, {tier: 'basic'})
      const viewer = as('b')
      const all = (await t.core.members.listMembers(viewer, {org: org.slug})).items
      expect(all).toHaveLength(6)
      const seen = []
      let cursor: string | undefined
      for (let page = 0; page < 10; page += 1) {
        const result = await t.core.members.listMembers(viewer, {org: org.slug, limit: '2', cursor})
        expect(result.items.length).toBeLessThanOrEqual(2)
        seen.push(...result.items)
        if (!result.nextCursor) break
        cursor = result.nextCursor
      }
      expect(seen).toEqual(all)
      const members = await t.core.members.listMembers(viewer, {org: org.slug, role: 'MEMBER', limit: 200})
      expect(members).toEqual({items: all.filter((member) => member.role === 'member'), nextCursor: null})
      for (const bad of [{limit: 0}, {limit: 201}, {limit: 'ten'}, {cursor: 'not-a-cursor'}]) {
        await expect(t.core.members.listMembers(viewer, {org: org.slug, ...bad})).rejects.toMatchObject({code: 'validation.failed'})
      }
      await expect(t.core.members.listMembers(viewer, {org: org.slug, role: 'wizard'})).rejects.toMatchObject({code: 'role.not_found'})
    })
  })
})
