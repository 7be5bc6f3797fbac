import {afterAll, beforeAll, expect, it} from 'vitest'
import {PERMISSION_KEYS} from '../../src/access/permission-catalog.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {OPERATOR} from '../helpers/test-core.js'
import {camelCaseKeysOf, expectError, startOrgApi, type OrgApi} from './org-api-fixtures.js'

// The organization routes themselves over HTTP: create, list, read, rename, delete and restore,
// transfer of ownership, the caller's standing (me), the permission catalog, and what tenants
// may not do (tier, owner, probing other orgs). Members, roles, flags and audit have their files.

describeEachDialect('organization API over HTTP', (dialect) => {
  let api: OrgApi

  beforeAll(async () => {
    api = await startOrgApi(dialect)
  })
  afterAll(async () => {
    await api?.close()
  })

  it('a user creates an organization, becomes its owner, lists it with the role, reads and renames it once bound to it', async () => {
    const alice = await api.register('alice')
    const slug = api.unique('acme')
    const created = await api.post('/v1/orgs', alice.token, {name: 'Acme', slug})
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({slug, name: 'Acme', tier: 'free', domain: null, deleted_at: null})
    expect(typeof created.json.created_at).toBe('string')
    expect(camelCaseKeysOf(created.json)).toEqual([])

    const listed = await api.get('/v1/orgs', alice.token)
    expect(listed.status).toBe(200)
    const roles = Object.fromEntries(listed.json.orgs.map((org: any) => [org.id, org.role]))
    expect(roles).toEqual({[created.json.id]: 'owner', [alice.personalOrgId]: 'owner'})
    expect(camelCaseKeysOf(listed.json)).toEqual([])

    // Her token is bound to her personal org: a member bound elsewhere is told so.
    expectError(await api.get(`/v1/orgs/${slug}`, alice.token), 403, 'auth.org_mismatch')
    const bound = await api.login(alice.email, slug)
    const shown = await api.get(`/v1/orgs/${created.json.id}`, bound)
    expect(shown.status).toBe(200)
    expect(shown.json).toMatchObject({id: created.json.id, slug, member_count: 1})

    const renamed = await api.patch(`/v1/orgs/${slug}`, bound, {name: 'Acme Corp'})
    expect(renamed.status).toBe(200)
    expect(renamed.json).toMatchObject({slug, name: 'Acme Corp'})
    expect((await api.get(`/v1/orgs/${slug}`, bound)).json.name).toBe('Acme Corp')
  })

  it('tier, owner and domain are for platform principals: a tenant is refused and nothing is written', async () => {
    const bob = await api.register('bob')
    const slug = api.unique('tiered')
    expectError(await api.post('/v1/orgs', bob.token, {name: 'Tiered', slug, tier: 'enterprise'}), 403, 'platform.required')
    const someoneElse = await api.register('someone-else')
    expectError(await api.post('/v1/orgs', bob.token, {name: 'Owned', slug, owner: someoneElse.email}), 403, 'platform.required')
    expect((await api.get('/v1/orgs', bob.token)).json.orgs).toHaveLength(1)
    expect(await api.core.orgs.listOrgs(OPERATOR, {includeDeleted: true})).not.toContainEqual(expect.objectContaining({slug}))

    expectError(await api.patch(`/v1/orgs/${bob.personalOrgId}`, bob.token, {tier: 'premium'}), 403, 'platform.required')
    expectError(await api.patch(`/v1/orgs/${bob.personalOrgId}`, bob.token, {domain: 'login.bob.example.com'}), 403, 'platform.required')
    const unchanged = await api.get(`/v1/orgs/${bob.personalOrgId}`, bob.token)
    expect(unchanged.json).toMatchObject({tier: 'free', domain: null})
  })

  it('a platform admin creates an organization with a tier and an owner, and sets its domain', async () => {
    const carol = await api.register('carol')
    const admin = await api.platformAdmin()
    const slug = api.unique('provisioned')
    const created = await api.post('/v1/orgs', admin.token, {name: 'Provisioned', slug, tier: 'enterprise', owner: carol.email})
    expect(created.status).toBe(201)
    expect(created.json.tier).toBe('enterprise')
    expect((await api.get('/v1/orgs', carol.token)).json.orgs).toContainEqual(expect.objectContaining({slug, role: 'owner'}))
    const domain = `${slug}.example.com`
    const updated = await api.patch(`/v1/orgs/${slug}`, admin.token, {domain})
    expect(updated.status).toBe(200)
    expect(updated.json.domain).toBe(domain)
  })

  it('an unknown org and an org the caller does not belong to answer the same 404', async () => {
    const {slug, org} = await api.seedOrg('private')
    const outsider = await api.register('outsider')
    for (const ref of [slug, org.id, 'no-such-org', '00000000-0000-7000-8000-000000000000']) {
      expectError(await api.get(`/v1/orgs/${ref}`, outsider.token), 404, 'org.not_found')
      expectError(await api.get(`/v1/orgs/${ref}/me`, outsider.token), 404, 'org.not_found')
      expectError(await api.patch(`/v1/orgs/${ref}`, outsider.token, {name: 'Mine now'}), 404, 'org.not_found')
    }
    expectError(await api.get(`/v1/orgs/${slug}`), 401, 'auth.invalid_token')
  })

  it('me reports the role and effective permissions as they are now', async () => {
    const {slug, people} = await api.seedOrg('standing')
    const ownerView = await api.get(`/v1/orgs/${slug}/me`, people.owner!.bound)
    expect(ownerView.status).toBe(200)
    expect(ownerView.json.org.slug).toBe(slug)
    expect(ownerView.json.role).toBe('owner')
    expect([...ownerView.json.permissions].sort()).toEqual([...PERMISSION_KEYS].sort())
    const viewerView = await api.get(`/v1/orgs/${slug}/me`, people.viewer!.bound)
    expect(viewerView.json).toMatchObject({role: 'viewer'})
    expect([...viewerView.json.permissions].sort()).toEqual(['flags.read', 'members.read', 'org.read', 'roles.read'])
  })

  it('members.read and friends: a viewer may read but not rename or delete', async () => {
    const {slug, people} = await api.seedOrg('guarded')
    expect((await api.get(`/v1/orgs/${slug}`, people.viewer!.bound)).status).toBe(200)
    expectError(await api.patch(`/v1/orgs/${slug}`, people.viewer!.bound, {name: 'Renamed'}), 403, 'permission.denied')
    expectError(await api.del(`/v1/orgs/${slug}`, people.admin!.bound), 403, 'permission.denied')
    expect((await api.get(`/v1/orgs/${slug}`, people.owner!.bound)).json).toMatchObject({name: 'guarded Inc.', deleted_at: null})
  })

  it('deleting an org: its members get 404 and their tokens go inactive; the owner restores it with a token bound elsewhere', async () => {
    const {slug, people} = await api.seedOrg('doomed')
    const owner = people.owner!
    const member = people.member!
    expect(await api.isActive(member.bound)).toBe(true)
    const deleted = await api.del(`/v1/orgs/${slug}`, owner.bound)
    expect(deleted.status).toBe(200)
    expect(typeof deleted.json.deleted_at).toBe('string')

    expect(await api.isActive(member.bound)).toBe(false)
    expect(await api.isActive(owner.bound)).toBe(false)
    // A fresh token of the member (bound to their personal org) still meets the same 404.
    expectError(await api.get(`/v1/orgs/${slug}`, member.token), 404, 'org.not_found')
    expectError(await api.post(`/v1/orgs/${slug}/restore`, member.token), 404, 'org.not_found')
    expect((await api.get('/v1/orgs', owner.token)).json.orgs).not.toContainEqual(expect.objectContaining({slug}))

    const restored = await api.post(`/v1/orgs/${slug}/restore`, owner.token)
    expect(restored.status).toBe(200)
    expect(restored.json).toMatchObject({slug, deleted_at: null})
    const again = await api.login(member.email, slug)
    expect((await api.get(`/v1/orgs/${slug}`, again)).status).toBe(200)
  })

  it('transfer-ownership makes a member owner and the previous owner admin', async () => {
    const {slug, people} = await api.seedOrg('handover')
    const owner = people.owner!
    const admin = people.admin!
    // An admin may change roles, but only an owner hands over ownership.
    expectError(await api.post(`/v1/orgs/${slug}/transfer-ownership`, admin.bound, {user: people.member!.userId}), 403, 'role.grant_forbidden')
    expectError(await api.post(`/v1/orgs/${slug}/transfer-ownership`, people.member!.bound, {user: people.member!.userId}), 403, 'permission.denied')
    const transferred = await api.post(`/v1/orgs/${slug}/transfer-ownership`, owner.bound, {user: admin.userId})
    expect(transferred.status).toBe(200)
    expect(transferred.json).toMatchObject({user_id: admin.userId, role: 'owner'})
    expect(camelCaseKeysOf(transferred.json)).toEqual([])

    const previous = await api.get(`/v1/orgs/${slug}/me`, await api.login(owner.email, slug))
    expect(previous.json.role).toBe('admin')
    const next = await api.get(`/v1/orgs/${slug}/me`, await api.login(admin.email, slug))
    expect(next.json.role).toBe('owner')
  })

  it('the permission catalog is public', async () => {
    const response = await api.get('/v1/permissions')
    expect(response.status).toBe(200)
    expect(response.json.permissions.map((permission: any) => permission.key).sort()).toEqual([...PERMISSION_KEYS].sort())
    for (const permission of response.json.permissions) expect(typeof permission.description).toBe('string')
  })

  it('/openapi.json documents every organization route with its summary, tag and the permission it needs', async () => {
    const document = (await api.get('/openapi.json')).json
    const expected: [string, string, string | null][] = [
      ['/v1/orgs', 'post', null],
      ['/v1/orgs', 'get', null],
      ['/v1/orgs/{org}', 'get', 'org.read'],
      ['/v1/orgs/{org}', 'patch', 'org.update'],
      ['/v1/orgs/{org}', 'delete', 'org.delete'],
      ['/v1/orgs/{org}/restore', 'post', null],
      ['/v1/orgs/{org}/transfer-ownership', 'post', 'members.update_role'],
      ['/v1/orgs/{org}/me', 'get', null],
      ['/v1/orgs/{org}/members', 'get', 'members.read'],
      ['/v1/orgs/{org}/members', 'post', null],
      ['/v1/orgs/{org}/members/{user}', 'patch', 'members.update_role'],
      ['/v1/orgs/{org}/members/{user}', 'delete', 'members.remove'],
      ['/v1/orgs/{org}/leave', 'post', null],
      ['/v1/orgs/{org}/roles', 'get', 'roles.read'],
      ['/v1/orgs/{org}/roles', 'post', 'roles.manage'],
      ['/v1/orgs/{org}/roles/{role}', 'get', 'roles.read'],
      ['/v1/orgs/{org}/roles/{role}', 'patch', 'roles.manage'],
      ['/v1/orgs/{org}/roles/{role}', 'delete', 'roles.manage'],
      ['/v1/orgs/{org}/flags', 'get', 'flags.read'],
      ['/v1/orgs/{org}/flags/{key}', 'get', 'flags.read'],
      ['/v1/orgs/{org}/audit', 'get', 'audit.read'],
      ['/v1/permissions', 'get', null],
    ]
    for (const [path, method, permission] of expected) {
      const operation = document.paths[path]?.[method]
      expect(operation, `${method} ${path}`).toBeDefined()
      expect(operation.summary, `${method} ${path}`).toMatch(/\S/)
      expect(operation.description, `${method} ${path}`).toMatch(/\S/)
      expect(operation.tags?.length, `${method} ${path}`).toBeGreaterThan(0)
      if (permission) expect(operation.description, `${method} ${path}`).toContain(`Requires \`${permission}\``)
      if (path !== '/v1/permissions') expect(operation.security, `${method} ${path}`).toEqual([{access_token: []}, {api_key: []}])
    }
  })
})
