import {afterAll, beforeAll, expect, it} from 'vitest'
import {describeEachDialect} from '../helpers/test-database.js'
import {OPERATOR} from '../helpers/test-core.js'
import {camelCaseKeysOf, expectError, startOrgApi, type OrgApi} from './org-api-fixtures.js'

// Roles of an organization over HTTP: the built-in and custom roles, creating, changing and
// deleting custom roles under the grant rules (no permission its creator lacks, nothing at or
// above the creator's rank unless an owner), and a custom role at work on the next request.

describeEachDialect('organization roles over HTTP', (dialect) => {
  let api: OrgApi

  beforeAll(async () => {
    api = await startOrgApi(dialect)
  })
  afterAll(async () => {
    await api?.close()
  })

  const roleKeysOf = async (slug: string) => (await api.core.roles.listRoles(OPERATOR, {org: slug})).map((role) => role.key).sort()

  it('lists the built-in roles with their permissions and member counts, in snake_case', async () => {
    const {slug, people} = await api.seedOrg('catalog')
    const listed = await api.get(`/v1/orgs/${slug}/roles`, people.viewer!.bound)
    expect(listed.status).toBe(200)
    expect(listed.json.roles.map((role: any) => [role.key, role.level, role.is_builtin, role.member_count])).toEqual([
      ['owner', 4, true, 1],
      ['admin', 3, true, 1],
      ['member', 2, true, 1],
      ['viewer', 1, true, 1],
    ])
    expect(listed.json.roles[0].org_id).toBeNull()
    expect(camelCaseKeysOf(listed.json)).toEqual([])
    const viewer = await api.get(`/v1/orgs/${slug}/roles/viewer`, people.viewer!.bound)
    expect(viewer.status).toBe(200)
    expect(viewer.json.permissions).toEqual(['flags.read', 'members.read', 'org.read', 'roles.read'])
    expectError(await api.get(`/v1/orgs/${slug}/roles/no-such-role`, people.viewer!.bound), 404, 'role.not_found')
    const outsider = await api.register('outsider')
    expectError(await api.get(`/v1/orgs/${slug}/roles`, outsider.token), 404, 'org.not_found')
  })

  it('a custom role: created, given to a member, and what it holds is what the member may do next', async () => {
    const {slug, people} = await api.seedOrg('custom')
    const created = await api.post(`/v1/orgs/${slug}/roles`, people.owner!.bound, {key: 'auditor', name: 'Auditor', permissions: ['members.read', 'audit.read', 'org.read'], level: 2})
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({key: 'auditor', name: 'Auditor', level: 2, is_builtin: false, permissions: ['audit.read', 'members.read', 'org.read']})
    expect(typeof created.json.org_id).toBe('string')
    expect(camelCaseKeysOf(created.json)).toEqual([])

    expect((await api.patch(`/v1/orgs/${slug}/members/${people.viewer!.userId}`, people.owner!.bound, {role: 'auditor'})).status).toBe(200)
    const token = await api.login(people.viewer!.email, slug)
    const me = await api.get(`/v1/orgs/${slug}/me`, token)
    expect(me.json).toMatchObject({role: 'auditor', permissions: ['audit.read', 'members.read', 'org.read']})
    expect((await api.get(`/v1/orgs/${slug}/members`, token)).status).toBe(200)
    expect((await api.get(`/v1/orgs/${slug}/audit`, token)).status).toBe(200)
    // flags.read was not given: the custom role does not have what viewers have.
    expectError(await api.get(`/v1/orgs/${slug}/flags`, token), 403, 'permission.denied')
    expectError(await api.get(`/v1/orgs/${slug}/roles`, token), 403, 'permission.denied')
  })

  it('nobody puts a permission they lack into a role, nor ranks it at their own level; nothing is written', async () => {
    const {slug, people} = await api.seedOrg('escalate')
    const admin = people.admin!
    const before = await roleKeysOf(slug)
    expectError(await api.post(`/v1/orgs/${slug}/roles`, admin.bound, {key: 'deleter', name: 'Deleter', permissions: ['org.read', 'org.delete'], level: 1}), 403, 'permission.not_held')
    expectError(await api.post(`/v1/orgs/${slug}/roles`, admin.bound, {key: 'peer', name: 'Peer', permissions: ['org.read'], level: 3}), 403, 'role.grant_forbidden')
    expectError(await api.post(`/v1/orgs/${slug}/roles`, people.member!.bound, {key: 'helper', name: 'Helper', permissions: ['org.read'], level: 1}), 403, 'permission.denied')
    expectError(await api.post(`/v1/orgs/${slug}/roles`, admin.bound, {key: 'mystery', name: 'Mystery', permissions: ['org.fly'], level: 1}), 422, 'permission.unknown')
    expect(await roleKeysOf(slug)).toEqual(before)
    expect((await api.core.audit.listOrgEvents(OPERATOR, {org: slug, action: 'role.*'})).items).toEqual([])

    // The admin may make what it holds, below its rank; an owner may go up to level 3 with anything.
    expect((await api.post(`/v1/orgs/${slug}/roles`, admin.bound, {key: 'helper', name: 'Helper', permissions: ['org.read', 'members.read'], level: 2})).status).toBe(201)
    expect((await api.post(`/v1/orgs/${slug}/roles`, people.owner!.bound, {key: 'deputy', name: 'Deputy', permissions: ['org.delete'], level: 3})).status).toBe(201)
    expectError(await api.post(`/v1/orgs/${slug}/roles`, admin.bound, {key: 'helper', name: 'Helper again', permissions: ['org.read'], level: 1}), 409, 'role.key_taken')
    expectError(await api.post(`/v1/orgs/${slug}/roles`, admin.bound, {key: 'Not A Key!', name: 'Bad', permissions: ['org.read'], level: 1}), 422, 'validation.failed')
  })

  it('changing a custom role follows the same rules; built-in roles do not change', async () => {
    const {slug, people} = await api.seedOrg('reshape')
    const owner = people.owner!
    const admin = people.admin!
    expect((await api.post(`/v1/orgs/${slug}/roles`, owner.bound, {key: 'support', name: 'Support', permissions: ['members.read'], level: 2})).status).toBe(201)

    const renamed = await api.patch(`/v1/orgs/${slug}/roles/support`, admin.bound, {name: 'Customer support', permissions: ['members.read', 'flags.read']})
    expect(renamed.status).toBe(200)
    expect(renamed.json).toMatchObject({key: 'support', name: 'Customer support', permissions: ['flags.read', 'members.read'], level: 2})
    expectError(await api.patch(`/v1/orgs/${slug}/roles/support`, admin.bound, {permissions: ['org.delete']}), 403, 'permission.not_held')
    expectError(await api.patch(`/v1/orgs/${slug}/roles/support`, admin.bound, {level: 3}), 403, 'role.grant_forbidden')
    expectError(await api.patch(`/v1/orgs/${slug}/roles/support`, people.member!.bound, {name: 'Mine'}), 403, 'permission.denied')
    expectError(await api.patch(`/v1/orgs/${slug}/roles/admin`, owner.bound, {name: 'Boss'}), 403, 'role.builtin_immutable')
    expectError(await api.patch(`/v1/orgs/${slug}/roles/support`, owner.bound, {}), 422, 'validation.failed')
    expect((await api.get(`/v1/orgs/${slug}/roles/support`, owner.bound)).json).toMatchObject({name: 'Customer support', permissions: ['flags.read', 'members.read'], level: 2})
  })

  it('a custom role is deleted once nobody holds it', async () => {
    const {slug, people} = await api.seedOrg('retire')
    const owner = people.owner!
    expect((await api.post(`/v1/orgs/${slug}/roles`, owner.bound, {key: 'temp', name: 'Temporary', permissions: ['org.read'], level: 1})).status).toBe(201)
    expect((await api.patch(`/v1/orgs/${slug}/members/${people.member!.userId}`, owner.bound, {role: 'temp'})).status).toBe(200)
    expectError(await api.del(`/v1/orgs/${slug}/roles/temp`, owner.bound), 409, 'role.in_use')
    expectError(await api.del(`/v1/orgs/${slug}/roles/temp`, people.viewer!.bound), 403, 'permission.denied')
    expectError(await api.del(`/v1/orgs/${slug}/roles/viewer`, owner.bound), 403, 'role.builtin_immutable')

    expect((await api.patch(`/v1/orgs/${slug}/members/${people.member!.userId}`, owner.bound, {role: 'member'})).status).toBe(200)
    const deleted = await api.del(`/v1/orgs/${slug}/roles/temp`, owner.bound)
    expect(deleted.status).toBe(204)
    expectError(await api.get(`/v1/orgs/${slug}/roles/temp`, owner.bound), 404, 'role.not_found')
  })
})
