import {afterAll, beforeAll, expect, it} from 'vitest'
import {OPERATOR} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {expectError, startOrgApi, type OrgApi} from './org-api-fixtures.js'

// What a second review of the organization API found, each shown fixed on both databases.
describeEachDialect('organization API hardening', (dialect) => {
  let api: OrgApi
  beforeAll(async () => {
    api = await startOrgApi(dialect)
  })
  afterAll(async () => api?.close())

  it('a key made by a key expires no later than its maker, so a short-lived key cannot mint a permanent one', async () => {
    const {slug, people} = await api.seedOrg('expiring', [])
    const made = await api.post(`/v1/orgs/${slug}/api-keys`, people.owner!.bound, {name: 'short', permissions: ['apikeys.manage', 'members.read', 'org.read'], expires_at: '1h'})
    expect(made.status).toBe(201)
    const parent = made.json.secret as string
    expectError(await api.post(`/v1/orgs/${slug}/api-keys`, parent, {name: 'forever', permissions: ['members.read']}), 422, 'validation.failed')
    expectError(await api.post(`/v1/orgs/${slug}/api-keys`, parent, {name: 'longer', permissions: ['members.read'], expires_at: '2h'}), 422, 'validation.failed')
    const child = await api.post(`/v1/orgs/${slug}/api-keys`, parent, {name: 'within', permissions: ['members.read'], expires_at: '30m'})
    expect(child.status).toBe(201)
    api.daemon.testCore.clock.advance(2 * 3_600_000)
    expectError(await api.get(`/v1/orgs/${slug}/members`, parent), 401, 'auth.invalid_token')
    expectError(await api.get(`/v1/orgs/${slug}/members`, child.json.secret), 401, 'auth.invalid_token')
  })

  it('answers out-of-range times in audit since and member cursors with 422, never 500', async () => {
    const {slug, people} = await api.seedOrg('ranges', [])
    const token = people.owner!.bound
    for (const since of ['999999w', '999999d', '0000-01-01']) expectError(await api.get(`/v1/orgs/${slug}/audit?since=${since}`, token), 422, 'validation.failed')
    expect((await api.get(`/v1/orgs/${slug}/audit?since=7d`, token)).status).toBe(200)
    const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    for (const cursor of [cursorOf(['2024-01-01T00:00:00Z', 'a\u0000b']), cursorOf(['+275760-09-13T00:00:00.000Z', 'x']), cursorOf(['-271821-04-20T00:00:00.000Z', 'x']), cursorOf(['2024-01-01T00:00:00Z', 'x'.repeat(500)])]) {
      expectError(await api.get(`/v1/orgs/${slug}/members?cursor=${cursor}`, token), 422, 'validation.failed')
    }
  })

  it('an unknown role does not tell a tenant whether an email has an account', async () => {
    const {slug, people} = await api.seedOrg('roles-first', [])
    const other = await api.seedOrg('elsewhere', [])
    const known = await api.patch(`/v1/orgs/${slug}/members/${other.people.owner!.email}`, people.owner!.bound, {role: 'nope'})
    const unknown = await api.patch(`/v1/orgs/${slug}/members/nobody-${dialect}@example.com`, people.owner!.bound, {role: 'nope'})
    expectError(known, 404, 'member.not_found')
    expectError(unknown, 404, 'member.not_found')
  })

  it('of two concurrent deletes of an org, one deletes and the other sees it deleted; one event is logged', async () => {
    const {org, slug} = await api.seedOrg('twice', [])
    const before = await api.core.audit.latestSeq()
    const outcomes = await Promise.allSettled([api.core.orgs.deleteOrg(OPERATOR, {org: slug}), api.core.orgs.deleteOrg(OPERATOR, {org: slug})])
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected'])
    expect(outcomes.find((outcome) => outcome.status === 'rejected')).toMatchObject({reason: {code: 'org.deleted'}})
    const events = await api.core.audit.listEventsAfter({afterSeq: before, orgId: org.id})
    expect(events.filter((event) => event.action === 'org.deleted')).toHaveLength(1)
  })
})
