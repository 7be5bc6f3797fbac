import {afterAll, beforeAll, expect, it} from 'vitest'
import {OPERATOR} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {expectError, startOrgApi, type OrgApi} from './org-api-fixtures.js'

// What a tenant can learn about another tenant through errors: nothing beyond "not found" or
// "taken" — not the other org's name, whether it is deleted, nor another user's email.
describeEachDialect('probe resistance', (dialect) => {
  let api: OrgApi
  beforeAll(async () => {
    api = await startOrgApi(dialect)
  })
  afterAll(async () => api?.close())

  it('if_not_exists on another tenant’s slug answers a plain org.slug_taken, live or deleted', async () => {
    const victim = await api.seedOrg('victim', [])
    const outsider = await api.register('outsider')
    const guess = (slug: string) => api.post('/v1/orgs', outsider.token, {name: 'guess', slug, if_not_exists: true})
    const live = await guess(victim.slug)
    expectError(live, 409, 'org.slug_taken')
    expect(live.text).not.toContain('victim Inc.')
    await api.core.orgs.deleteOrg(OPERATOR, {org: victim.slug})
    const deleted = await guess(victim.slug)
    expectError(deleted, 409, 'org.slug_taken')
    expect(deleted.json.error.message).toBe(live.json.error.message)
    // The owner of the org still gets it back.
    const own = await api.seedOrg('own', [])
    const same = await api.post('/v1/orgs', own.people.owner!.bound, {name: 'own Inc.', slug: own.slug, if_not_exists: true})
    expect(same.status).toBe(200)
    expect(same.json.id).toBe(own.org.id)
  })

  it('a member route given another org’s user id does not reveal their email', async () => {
    const mine = await api.seedOrg('mine', ['admin'])
    const other = await api.seedOrg('other', [])
    const foreignId = other.people.owner!.userId
    const admin = mine.people.admin!.bound
    for (const response of [
      await api.patch(`/v1/orgs/${mine.slug}/members/${foreignId}`, admin, {role: 'viewer'}),
      await api.del(`/v1/orgs/${mine.slug}/members/${foreignId}`, admin),
      await api.post(`/v1/orgs/${mine.slug}/transfer-ownership`, mine.people.owner!.bound, {user: foreignId}),
    ]) {
      expectError(response, 404, 'member.not_found')
      expect(response.text).not.toContain(other.people.owner!.email)
    }
    // An email in another case than stored is echoed as given, as for an unknown account.
    const known = await api.del(`/v1/orgs/${mine.slug}/members/${other.people.owner!.email.toUpperCase()}`, admin)
    const unknown = await api.del(`/v1/orgs/${mine.slug}/members/NOBODY-${dialect}@EXAMPLE.COM`, admin)
    expectError(known, 404, 'member.not_found')
    expectError(unknown, 404, 'member.not_found')
    expect(known.json.error.message).toContain(other.people.owner!.email.toUpperCase())
  })
})
