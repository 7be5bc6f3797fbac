import {afterEach, beforeEach, expect, it} from 'vitest'
import {toJsonShape, toCamelShape} from '../../../src/shared/json-shape.js'
import {createOrgFixtures} from '../../helpers/org-fixtures.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'

// organization.require_2fa through the org service: owners and admins (org.update) set and
// clear it, members may not; the change is audited as org.updated; every face shows it.

describeEachDialect('org require_2fa', (dialect) => {
  let t: TestCore
  const fixtures = createOrgFixtures(() => t)

  beforeEach(async () => {
    t = await createTestCore(dialect)
  })
  afterEach(async () => t.close())

  it('is off for a new org; an owner and an admin set and clear it; a member may not', async () => {
    const {org, as} = await fixtures.seedOrg('acme-2fa', {olivia: 'owner', adam: 'admin', mia: 'member'})
    expect(org.require2fa).toBe(false)
    expect((await t.core.orgs.updateOrg(as('olivia'), {org: org.slug, require2fa: true})).require2fa).toBe(true)
    expect((await t.core.orgs.showOrg(OPERATOR, {org: org.slug})).require2fa).toBe(true)
    await expect(t.core.orgs.updateOrg(as('mia'), {org: org.slug, require2fa: false})).rejects.toMatchObject({code: 'permission.denied'})
    expect((await t.core.orgs.updateOrg(as('adam'), {org: org.slug, require2fa: false})).require2fa).toBe(false)
    const row = await t.core.database.db.selectFrom('organization').select('require_2fa').where('id', '=', org.id).executeTakeFirstOrThrow()
    expect(Number(row.require_2fa)).toBe(0)
  })

  it('is audited as org.updated with the change; setting it to what it is changes nothing', async () => {
    const {org} = await fixtures.seedOrg('audited-2fa', {olivia: 'owner'})
    await t.core.orgs.updateOrg(OPERATOR, {org: org.slug, require2fa: true})
    await t.core.orgs.updateOrg(OPERATOR, {org: org.slug, require2fa: true})
    const events = await t.core.audit.listEventsAfter({afterSeq: 0, action: 'org.updated'})
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({orgId: org.id, metadata: {changes: {require_2fa: {from: false, to: true}}}})
  })

  it('is named require_2fa in JSON both ways', async () => {
    const {org} = await fixtures.seedOrg('json-2fa', {olivia: 'owner'})
    expect(toJsonShape(org)).toMatchObject({require_2fa: false})
    expect(toCamelShape({require_2fa: true})).toEqual({require2fa: true})
    const listed = await t.core.orgs.listOrgs(OPERATOR, {})
    expect(listed.find((summary) => summary.id === org.id)).toMatchObject({require2fa: false})
  })
})
