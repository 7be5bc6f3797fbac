import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

describeEachDialect('role service', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  let counter = 0
  async function newUser(prefix: string) {
    counter += 1
    const {user} = await t.core.users.createUser(OPERATOR, {email: `${prefix}-${counter}@example.com`})
    return user
  }

  async function newOrg(slug: string) {
    const owner = await newUser(`${slug}-owner`)
    const {org} = await t.core.orgs.createOrg(OPERATOR, {name: slug, slug, owner: owner.id})
    return {org, owner}
  }

  async function customRoleRows(orgId: string) {
    return t.core.database.db.selectFrom('role').selectAll().where('org_id', '=', orgId).execute()
  }

  describe('createRole', () => {
    it('creates a custom role from catalog permissions, assigns it and lists it with its permissions', async () => {
      const {org} = await newOrg('custom')
      const before = await t.core.audit.latestSeq()
      const role = await t.core.roles.createRole(OPERATOR, {org: 'custom', key: 'Billing', name: 'Billing', permissions: ['org.read', 'audit.read', 'org.read'], level: 2})
      expect(role).toMatchObject({key: 'billing', name: 'Billing', level: 2, isBuiltin: false, orgId: org.id, permissions: ['audit.read', 'org.read']})
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({action: 'role.created', orgId: org.id, target: {type: 'role', id: role.id}, metadata: {key: 'billing', level: 2, permissions: ['audit.read', 'org.read']}})

      const user = await newUser('biller')
      await t.core.members.addMember(OPERATOR, {org: 'custom', user: user.id, role: 'billing'})
      expect((await t.core.members.listMembers(OPERATOR, {org: 'custom'})).items.find((member) => member.userId === user.id)?.role).toBe('billing')

      const roles = await t.core.roles.listRoles(OPERATOR, {org: 'custom'})
      expect(roles.map((r) => r.key)).toEqual(['owner', 'admin', 'member', 'billing', 'viewer'])
      expect(roles.find((r) => r.key === 'billing')).toMatchObject({id: role.id, isBuiltin: false, permissions: ['audit.read', 'org.read'], memberCount: 1})
      expect(roles.find((r) => r.key === 'owner')).toMatchObject({isBuiltin: true, memberCount: 1})
      expect(await t.core.roles.showRole(OPERATOR, {org: 'custom', role: 'BILLING'})).toMatchObject({id: role.id, permissions: ['audit.read', 'org.read'], memberCount: 1})
    })

    it('keeps custom roles per organization: another organization neither sees it nor is blocked by it', async () => {
      await newOrg('scoped-a')
      await newOrg('scoped-b')
      await t.core.roles.createRole(OPERATOR, {org: 'scoped-a', key: 'support', name: 'Support', permissions: ['members.read']})
      expect((await t.core.roles.listRoles(OPERATOR, {org: 'scoped-b'})).map((r) => r.key)).not.toContain('support')
      await expect(t.core.roles.showRole(OPERATOR, {org: 'scoped-b', role: 'support'})).rejects.toMatchObject({code: 'role.not_found'})
      const other = await t.core.roles.createRole(OPERATOR, {org: 'scoped-b', key: 'support', name: 'Support B', permissions: ['flags.read']})
      expect(other.permissions).toEqual(['flags.read'])
    })

    it('refuses an unknown permission (permission.unknown) and writes nothing', async () => {
      const {org} = await newOrg('unknown-perm')
      const before = await t.core.audit.latestSeq()
      await expect(t.core.roles.createRole(OPERATOR, {org: 'unknown-perm', key: 'weird', name: 'Weird', permissions: ['org.read', 'org.destroy', 'root']})).rejects.toMatchObject({
        code: 'permission.unknown',
        details: {unknown: ['org.destroy', 'root']},
      })
      expect(await customRoleRows(org.id)).toEqual([])
      expect(await t.core.audit.latestSeq()).toBe(before)
      const orphanPermissions = await t.core.database.db
        .selectFrom('role_permission')
        .leftJoin('role', 'role.id', 'role_permission.role_id')
        .select('role_permission.role_id')
        .where('role.id', 'is', null)
        .execute()
      expect(orphanPermissions).toEqual([])
    })

    it.each([
      ['level 4 (owner rank)', {key: 'boss', name: 'Boss', permissions: ['org.read'], level: 4}],
      ['level 0', {key: 'nobody', name: 'Nobody', permissions: ['org.read'], level: 0}],
      ['no permissions', {key: 'empty', name: 'Empty', permissions: []}],
      ['a bad key', {key: '1abc', name: 'Bad', permissions: ['org.read']}],
      ['an empty name', {key: 'noname', name: ' ', permissions: ['org.read']}],
    ])('refuses %s with validation.failed', async (_label, input) => {
      const {org} = await newOrg(`invalid-${++counter}`)
      await expect(t.core.roles.createRole(OPERATOR, {org: org.slug, ...input})).rejects.toMatchObject({code: 'validation.failed'})
      expect(await customRoleRows(org.id)).toEqual([])
    })

    it.each(['owner', 'admin', 'member', 'viewer', 'OWNER'])('refuses the built-in key %s with role.key_taken', async (key) => {
      const {org} = await newOrg(`builtin-key-${++counter}`)
      const before = await t.core.audit.latestSeq()
      await expect(t.core.roles.createRole(OPERATOR, {org: org.slug, key, name: 'Fake', permissions: ['org.read']})).rejects.toMatchObject({code: 'role.key_taken'})
      expect(await customRoleRows(org.id)).toEqual([])
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('refuses a duplicate custom key with role.key_taken', async () => {
      const {org} = await newOrg('dup-role')
      await t.core.roles.createRole(OPERATOR, {org: 'dup-role', key: 'ops', name: 'Ops', permissions: ['org.read']})
      await expect(t.core.roles.createRole(OPERATOR, {org: 'dup-role', key: 'OPS', name: 'Ops 2', permissions: ['flags.read']})).rejects.toMatchObject({code: 'role.key_taken'})
      expect((await customRoleRows(org.id)).map((row) => row.name)).toEqual(['Ops'])
    })
  })

  describe('built-in roles', () => {
    it.each(['owner', 'admin', 'member', 'viewer'])('cannot change or delete %s (role.builtin_immutable)', async (key) => {
      const {org} = await newOrg(`immutable-${key}`)
      const before = await t.core.audit.latestSeq()
      const permissionsBefore = (await t.core.roles.showRole(OPERATOR, {org: org.slug, role: key})).permissions
      await expect(t.core.roles.updateRole(OPERATOR, {org: org.slug, role: key, name: 'Renamed'})).rejects.toMatchObject({code: 'role.builtin_immutable'})
      await expect(t.core.roles.updateRole(OPERATOR, {org: org.slug, role: key, permissions: ['org.read']})).rejects.toMatchObject({code: 'role.builtin_immutable'})
      await expect(t.core.roles.deleteRole(OPERATOR, {org: org.slug, role: key})).rejects.toMatchObject({code: 'role.builtin_immutable'})
      const after = await t.core.roles.showRole(OPERATOR, {org: org.slug, role: key})
      expect(after.permissions).toEqual(permissionsBefore)
      expect(after.name).not.toBe('Renamed')
      expect(await t.core.audit.latestSeq()).toBe(before)
    })
  })

  describe('updateRole', () => {
    it('changes name, level and permissions, auditing what changed', async () => {
      const {org} = await newOrg('update-role')
      const role = await t.core.roles.createRole(OPERATOR, {org: 'update-role', key: 'editor', name: 'Editor', permissions: ['org.read', 'flags.read']})
      const before = await t.core.audit.latestSeq()
      const updated = await t.core.roles.updateRole(OPERATOR, {org: 'update-role', role: 'editor', name: 'Chief Editor', level: 3, permissions: ['org.read', 'flags.manage']})
      expect(updated).toMatchObject({id: role.id, name: 'Chief Editor', level: 3, permissions: ['flags.manage', 'org.read']})
      expect(await t.core.roles.showRole(OPERATOR, {org: 'update-role', role: 'editor'})).toMatchObject({name: 'Chief Editor', level: 3, permissions: ['flags.manage', 'org.read']})
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({
        action: 'role.updated',
        orgId: org.id,
        target: {type: 'role', id: role.id},
        metadata: {key: 'editor', changes: {name: {from: 'Editor', to: 'Chief Editor'}, level: {from: 1, to: 3}, permissions: {added: ['flags.manage'], removed: ['flags.read']}}},
      })
    })

    it('refuses level 4 and unknown permissions, changing nothing', async () => {
      await newOrg('update-refused')
      await t.core.roles.createRole(OPERATOR, {org: 'update-refused', key: 'helper', name: 'Helper', permissions: ['org.read']})
      const before = await t.core.audit.latestSeq()
      await expect(t.core.roles.updateRole(OPERATOR, {org: 'update-refused', role: 'helper', level: 4})).rejects.toMatchObject({code: 'validation.failed'})
      await expect(t.core.roles.updateRole(OPERATOR, {org: 'update-refused', role: 'helper', permissions: ['org.read', 'nope.nope']})).rejects.toMatchObject({code: 'permission.unknown'})
      expect(await t.core.roles.showRole(OPERATOR, {org: 'update-refused', role: 'helper'})).toMatchObject({level: 1, permissions: ['org.read']})
      expect(await t.core.audit.latestSeq()).toBe(before)
      await expect(t.core.roles.updateRole(OPERATOR, {org: 'update-refused', role: 'ghost', name: 'Ghost'})).rejects.toMatchObject({code: 'role.not_found'})
    })

    it('writes nothing when nothing changes', async () => {
      await newOrg('update-noop')
      await t.core.roles.createRole(OPERATOR, {org: 'update-noop', key: 'same', name: 'Same', permissions: ['org.read', 'flags.read']})
      const before = await t.core.audit.latestSeq()
      await t.core.roles.updateRole(OPERATOR, {org: 'update-noop', role: 'same', name: 'Same', permissions: ['flags.read', 'org.read']})
      expect(await t.core.audit.latestSeq()).toBe(before)
    })
  })

  describe('deleteRole', () => {
    it('refuses to delete a role in use (role.in_use), then deletes it once unused', async () => {
      const {org} = await newOrg('in-use')
      const role = await t.core.roles.createRole(OPERATOR, {org: 'in-use', key: 'temp', name: 'Temp', permissions: ['org.read', 'members.read']})
      const user = await newUser('holder')
      await t.core.members.addMember(OPERATOR, {org: 'in-use', user: user.id, role: 'temp'})
      const before = await t.core.audit.latestSeq()
      await expect(t.core.roles.deleteRole(OPERATOR, {org: 'in-use', role: 'temp'})).rejects.toMatchObject({code: 'role.in_use'})
      expect(await t.core.roles.showRole(OPERATOR, {org: 'in-use', role: 'temp'})).toMatchObject({id: role.id, memberCount: 1})
      expect(await t.core.audit.latestSeq()).toBe(before)

      await t.core.members.setMemberRole(OPERATOR, {org: 'in-use', user: user.id, role: 'viewer'})
      const deleted = await t.core.roles.deleteRole(OPERATOR, {org: 'in-use', role: 'temp'})
      expect(deleted).toMatchObject({id: role.id, key: 'temp'})
      await expect(t.core.roles.showRole(OPERATOR, {org: 'in-use', role: 'temp'})).rejects.toMatchObject({code: 'role.not_found'})
      expect(await customRoleRows(org.id)).toEqual([])
      expect(await t.core.database.db.selectFrom('role_permission').select('permission_key').where('role_id', '=', role.id).execute()).toEqual([])
      const [event] = await t.core.audit.listEvents({action: 'role.deleted', orgId: org.id}, 1)
      expect(event).toMatchObject({target: {type: 'role', id: role.id}, metadata: {key: 'temp', permissions: ['members.read', 'org.read']}})
    })

    it('raises role.not_found for an unknown role', async () => {
      await newOrg('delete-missing')
      await expect(t.core.roles.deleteRole(OPERATOR, {org: 'delete-missing', role: 'nothing'})).rejects.toMatchObject({code: 'role.not_found'})
    })
  })
})
