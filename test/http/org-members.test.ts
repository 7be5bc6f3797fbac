import {afterAll, beforeAll, expect, it} from 'vitest'
import {describeEachDialect} from '../helpers/test-database.js'
import {OPERATOR} from '../helpers/test-core.js'
import {camelCaseKeysOf, expectError, startOrgApi, type OrgApi} from './org-api-fixtures.js'

// Members of an organization over HTTP: the paginated list, the direct add (platform only),
// role changes under the grant rules, removal, leaving — and that a demotion or removal bites
// on the very next request, introspection included.

describeEachDialect('organization members over HTTP', (dialect) => {
  let api: OrgApi

  beforeAll(async () => {
    api = await startOrgApi(dialect)
  })
  afterAll(async () => {
    await api?.close()
  })

  const rolesOf = async (slug: string) => {
    const members = await api.core.members.listMembers(OPERATOR, {org: slug})
    return Object.fromEntries(members.items.map((member) => [member.email, member.role]))
  }

  it('lists members a page at a time, filtered by role, in snake_case', async () => {
    const {slug, people} = await api.seedOrg('roster')
    const all = await api.get(`/v1/orgs/${slug}/members`, people.viewer!.bound)
    expect(all.status).toBe(200)
    expect(all.json.next_cursor).toBeNull()
    expect(all.json.members.map((member: any) => member.role).sort()).toEqual(['admin', 'member', 'owner', 'viewer'])
    expect(Object.keys(all.json.members[0]).sort()).toEqual(['email', 'joined_at', 'name', 'role', 'status', 'user_id'])
    expect(camelCaseKeysOf(all.json)).toEqual([])

    const first = await api.get(`/v1/orgs/${slug}/members?limit=3`, people.viewer!.bound)
    expect(first.json.members).toHaveLength(3)
    expect(typeof first.json.next_cursor).toBe('string')
    const second = await api.get(`/v1/orgs/${slug}/members?limit=3&cursor=${encodeURIComponent(first.json.next_cursor)}`, people.viewer!.bound)
    expect(second.json.members).toHaveLength(1)
    expect(second.json.next_cursor).toBeNull()
    expect([...first.json.members, ...second.json.members].map((member: any) => member.user_id)).toEqual(all.json.members.map((member: any) => member.user_id))

    const viewers = await api.get(`/v1/orgs/${slug}/members?role=viewer`, people.viewer!.bound)
    expect(viewers.json.members.map((member: any) => member.user_id)).toEqual([people.viewer!.userId])

    expectError(await api.get(`/v1/orgs/${slug}/members?limit=0`, people.viewer!.bound), 422, 'validation.failed')
    expectError(await api.get(`/v1/orgs/${slug}/members?limit=100000`, people.viewer!.bound), 422, 'validation.failed')
  })

  it('tenants see the same 404 for unknown and foreign orgs, and a member bound elsewhere is told to switch', async () => {
    const {slug, people} = await api.seedOrg('closed')
    const outsider = await api.register('outsider')
    expectError(await api.get(`/v1/orgs/${slug}/members`, outsider.token), 404, 'org.not_found')
    expectError(await api.get('/v1/orgs/nowhere-at-all/members', outsider.token), 404, 'org.not_found')
    expectError(await api.get(`/v1/orgs/${slug}/members`, people.member!.token), 403, 'auth.org_mismatch')
    expectError(await api.get(`/v1/orgs/${slug}/members`), 401, 'auth.invalid_token')
  })

  it('a direct add is for platform principals; a tenant owner is refused and nothing is written', async () => {
    const {slug, people} = await api.seedOrg('provision')
    const newcomer = await api.register('newcomer')
    expectError(await api.post(`/v1/orgs/${slug}/members`, people.owner!.bound, {user: newcomer.email, role: 'member'}), 403, 'platform.required')
    expect(await rolesOf(slug)).not.toHaveProperty(newcomer.email)

    const platform = await api.platformAdmin()
    const added = await api.post(`/v1/orgs/${slug}/members`, platform.token, {user: newcomer.userId, role: 'viewer'})
    expect(added.status).toBe(201)
    expect(added.json).toMatchObject({user_id: newcomer.userId, email: newcomer.email, role: 'viewer', status: 'active'})
    expect((await rolesOf(slug))[newcomer.email]).toBe('viewer')
    expectError(await api.post(`/v1/orgs/${slug}/members`, platform.token, {user: newcomer.userId, role: 'viewer'}), 409, 'member.exists')
  })

  it('role changes follow the grant rules: an admin cannot make an owner or an admin, nor touch one', async () => {
    const {slug, people} = await api.seedOrg('ranks')
    const admin = people.admin!
    const changed = await api.patch(`/v1/orgs/${slug}/members/${people.viewer!.userId}`, admin.bound, {role: 'member'})
    expect(changed.status).toBe(200)
    expect(changed.json).toMatchObject({user_id: people.viewer!.userId, role: 'member'})
    expect(camelCaseKeysOf(changed.json)).toEqual([])

    const before = await rolesOf(slug)
    expectError(await api.patch(`/v1/orgs/${slug}/members/${people.member!.userId}`, admin.bound, {role: 'owner'}), 403, 'role.grant_forbidden')
    expectError(await api.patch(`/v1/orgs/${slug}/members/${people.member!.userId}`, admin.bound, {role: 'admin'}), 403, 'role.grant_forbidden')
    expectError(await api.patch(`/v1/orgs/${slug}/members/${people.owner!.userId}`, admin.bound, {role: 'viewer'}), 403, 'role.grant_forbidden')
    expectError(await api.patch(`/v1/orgs/${slug}/members/${people.viewer!.userId}`, people.member!.bound, {role: 'viewer'}), 403, 'permission.denied')
    expectError(await api.patch(`/v1/orgs/${slug}/members/${people.viewer!.userId}`, admin.bound, {role: 'no-such-role'}), 404, 'role.not_found')
    expect(await rolesOf(slug)).toEqual(before)
    // The grant refusals are not in the audit log as changes either.
    const events = await api.core.audit.listOrgEvents(OPERATOR, {org: slug, action: 'member.role_updated'})
    expect(events.items).toHaveLength(1)

    // The last owner stays an owner.
    expectError(await api.patch(`/v1/orgs/${slug}/members/${people.owner!.userId}`, people.owner!.bound, {role: 'admin'}), 403, 'member.last_owner')
  })

  it('after a demotion the next request is judged by the new role, and the old token is inactive', async () => {
    const {slug, people} = await api.seedOrg('demotion')
    const admin = people.admin!
    expect((await api.patch(`/v1/orgs/${slug}/members/${people.viewer!.userId}`, admin.bound, {role: 'member'})).status).toBe(200)
    expect(await api.isActive(admin.bound)).toBe(true)

    const demoted = await api.patch(`/v1/orgs/${slug}/members/${admin.userId}`, people.owner!.bound, {role: 'viewer'})
    expect(demoted.status).toBe(200)
    expect(await api.isActive(admin.bound)).toBe(false)
    // The daemon judges the old token by the membership as it is now: a viewer may not change roles.
    expectError(await api.patch(`/v1/orgs/${slug}/members/${people.viewer!.userId}`, admin.bound, {role: 'viewer'}), 403, 'permission.denied')
    expect((await api.get(`/v1/orgs/${slug}/me`, admin.bound)).json.role).toBe('viewer')
    // Their token bound elsewhere was not bound to this org: it stays active.
    expect(await api.isActive(admin.token)).toBe(true)

    const fresh = await api.login(admin.email, slug)
    expect((await api.get(`/v1/orgs/${slug}/me`, fresh)).json.role).toBe('viewer')
    expectError(await api.patch(`/v1/orgs/${slug}/members/${people.viewer!.userId}`, fresh, {role: 'viewer'}), 403, 'permission.denied')
    expect((await api.get(`/v1/orgs/${slug}/members`, fresh)).status).toBe(200)
  })

  it('removing a member: 204, their token bound to the org goes inactive, the org is then a 404 to them', async () => {
    const {slug, people} = await api.seedOrg('removal')
    const member = people.member!
    expectError(await api.del(`/v1/orgs/${slug}/members/${member.userId}`, people.viewer!.bound), 403, 'permission.denied')
    expectError(await api.del(`/v1/orgs/${slug}/members/${people.owner!.userId}`, people.admin!.bound), 403, 'role.grant_forbidden')
    expectError(await api.del(`/v1/orgs/${slug}/members/${people.owner!.userId}`, people.owner!.bound), 403, 'member.last_owner')

    const removed = await api.del(`/v1/orgs/${slug}/members/${member.userId}`, people.admin!.bound)
    expect(removed.status).toBe(204)
    expect(removed.text).toBe('')
    expect(await api.isActive(member.bound)).toBe(false)
    expectError(await api.get(`/v1/orgs/${slug}`, member.token), 404, 'org.not_found')
    expectError(await api.del(`/v1/orgs/${slug}/members/${member.userId}`, people.admin!.bound), 404, 'member.not_found')
    expect(await rolesOf(slug)).not.toHaveProperty(member.email)
  })

  it('leaving: any token of the member will do; the last owner cannot leave', async () => {
    const {slug, people} = await api.seedOrg('exit')
    const viewer = people.viewer!
    const left = await api.post(`/v1/orgs/${slug}/leave`, viewer.token)
    expect(left.status).toBe(204)
    expect(await api.isActive(viewer.bound)).toBe(false)
    expectError(await api.get(`/v1/orgs/${slug}`, viewer.token), 404, 'org.not_found')
    expectError(await api.post(`/v1/orgs/${slug}/leave`, viewer.token), 404, 'org.not_found')
    expect((await api.get('/v1/orgs', viewer.token)).json.orgs).not.toContainEqual(expect.objectContaining({slug}))

    expectError(await api.post(`/v1/orgs/${slug}/leave`, people.owner!.bound), 403, 'member.last_owner')
    expect((await rolesOf(slug))[people.owner!.email]).toBe('owner')
  })
})
