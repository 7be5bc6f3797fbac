import {afterAll, beforeAll, expect, it} from 'vitest'
import {describeEachDialect} from '../helpers/test-database.js'
import {OPERATOR} from '../helpers/test-core.js'
import {camelCaseKeysOf, expectError, startOrgApi, type OrgApi} from './org-api-fixtures.js'

// What apps read at run time (every flag evaluated for an org) and an org's own audit log,
// newest first with cursor pagination, over HTTP.

describeEachDialect('organization flags and audit over HTTP', (dialect) => {
  let api: OrgApi

  beforeAll(async () => {
    api = await startOrgApi(dialect)
  })
  afterAll(async () => {
    await api?.close()
  })

  it('flags: every flag evaluated for the org with its reason, and one by key', async () => {
    const {slug, people} = await api.seedOrg('flagged')
    const other = await api.seedOrg('unflagged', [])
    const prefix = api.unique('beta')
    await api.core.flags.createFlag(OPERATOR, {key: `${prefix}.on`, defaultEnabled: true})
    await api.core.flags.createFlag(OPERATOR, {key: `${prefix}.off`, defaultEnabled: false})
    await api.core.flags.createFlag(OPERATOR, {key: `${prefix}.forced`, defaultEnabled: false})
    await api.core.flags.setOverride(OPERATOR, {key: `${prefix}.forced`, org: slug, value: 'on'})

    const listed = await api.get(`/v1/orgs/${slug}/flags`, people.viewer!.bound)
    expect(listed.status).toBe(200)
    const ours = listed.json.flags.filter((flag: any) => flag.key.startsWith(prefix))
    expect(ours).toEqual([
      {key: `${prefix}.forced`, enabled: true, reason: 'override'},
      {key: `${prefix}.off`, enabled: false, reason: 'default'},
      {key: `${prefix}.on`, enabled: true, reason: 'default'},
    ])
    expect(camelCaseKeysOf(listed.json)).toEqual([])

    const one = await api.get(`/v1/orgs/${slug}/flags/${prefix}.forced`, people.viewer!.bound)
    expect(one.status).toBe(200)
    expect(one.json).toEqual({key: `${prefix}.forced`, enabled: true, reason: 'override'})
    // The override is this org's alone.
    const elsewhere = await api.get(`/v1/orgs/${other.slug}/flags/${prefix}.forced`, other.people.owner!.bound)
    expect(elsewhere.json).toEqual({key: `${prefix}.forced`, enabled: false, reason: 'default'})

    expectError(await api.get(`/v1/orgs/${slug}/flags/${prefix}.missing`, people.viewer!.bound), 404, 'flag.not_found')
    expectError(await api.get(`/v1/orgs/${slug}/flags`, people.viewer!.token), 403, 'auth.org_mismatch')
    expectError(await api.get(`/v1/orgs/${slug}/flags`, other.people.owner!.bound), 404, 'org.not_found')
    expectError(await api.get('/v1/orgs/no-such-org/flags', people.viewer!.bound), 404, 'org.not_found')
  })

  it("audit: the org's events newest first, a page at a time, filtered; nobody else's", async () => {
    const {slug, org, people} = await api.seedOrg('audited')
    const other = await api.seedOrg('bystander', [])
    const owner = people.owner!
    const renamed = await api.patch(`/v1/orgs/${slug}`, owner.bound, {name: 'Audited Ltd'})
    expect(renamed.status).toBe(200)
    await api.patch(`/v1/orgs/${other.slug}`, other.people.owner!.bound, {name: 'Bystander Ltd'})

    const all = await api.get(`/v1/orgs/${slug}/audit`, owner.bound)
    expect(all.status).toBe(200)
    expect(all.json.next_cursor).toBeNull()
    const events = all.json.events
    expect(events.length).toBeGreaterThanOrEqual(5)
    expect(events.every((event: any) => event.org_id === org.id)).toBe(true)
    const seqs = events.map((event: any) => event.seq)
    expect(seqs).toEqual([...seqs].sort((a: number, b: number) => b - a))
    expect(camelCaseKeysOf(events.map(({metadata: _metadata, ...event}: any) => event))).toEqual([])

    // The newest is the rename, by the owner over HTTP, carrying the request's origin.
    const newest = events[0]
    expect(newest).toMatchObject({action: 'org.updated', actor: {type: 'user', id: owner.userId}})
    expect(newest.request_id).toBe(renamed.headers.get('x-request-id'))
    expect(typeof newest.created_at).toBe('string')

    const first = await api.get(`/v1/orgs/${slug}/audit?limit=2`, owner.bound)
    expect(first.json.events.map((event: any) => event.seq)).toEqual(seqs.slice(0, 2))
    expect(typeof first.json.next_cursor).toBe('string')
    const second = await api.get(`/v1/orgs/${slug}/audit?limit=2&cursor=${encodeURIComponent(first.json.next_cursor)}`, owner.bound)
    expect(second.json.events.map((event: any) => event.seq)).toEqual(seqs.slice(2, 4))

    const added = await api.get(`/v1/orgs/${slug}/audit?action=member.*`, owner.bound)
    expect(added.json.events.map((event: any) => [event.action, event.metadata.role])).toEqual([
      ['member.added', 'viewer'],
      ['member.added', 'member'],
      ['member.added', 'admin'],
      ['member.added', 'owner'],
    ])
    const byOwner = await api.get(`/v1/orgs/${slug}/audit?actor=${owner.userId}`, owner.bound)
    expect(byOwner.json.events[0].action).toBe('org.updated')
    expect(byOwner.json.events.every((event: any) => event.actor.id === owner.userId)).toBe(true)
    expect(byOwner.json.events.length).toBeLessThan(events.length)
    expect((await api.get(`/v1/orgs/${slug}/audit?since=1h`, owner.bound)).json.events.length).toBe(events.length)

    expectError(await api.get(`/v1/orgs/${slug}/audit`, people.member!.bound), 403, 'permission.denied')
    expectError(await api.get(`/v1/orgs/${slug}/audit`, other.people.owner!.token), 404, 'org.not_found')
    expectError(await api.get(`/v1/orgs/${slug}/audit?since=yesterday`, owner.bound), 422, 'validation.failed')
    expectError(await api.get(`/v1/orgs/${slug}/audit?limit=-1`, owner.bound), 422, 'validation.failed')
  })
})
