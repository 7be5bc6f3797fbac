import {afterAll, beforeAll, expect, it} from 'vitest'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

describeEachDialect('smoke', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  it('creates an org with an owner and audits both', async () => {
    const {user} = await t.core.users.createUser(OPERATOR, {email: 'Ada@Example.com', name: 'Ada', password: 'correct horse battery'})
    const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Acme Corp', owner: user.email})
    expect(org.slug).toBe('acme-corp')
    const members = (await t.core.members.listMembers(OPERATOR, {org: 'acme-corp'})).items
    expect(members.map((m) => [m.email, m.role])).toEqual([['ada@example.com', 'owner']])
    const events = await t.core.audit.listEvents({}, 10)
    expect(events.map((e) => e.action)).toEqual(['user.created', 'org.created', 'member.added'])
    expect(await t.core.audit.verifyChain()).toEqual({isIntact: true, checkedEvents: 3})
  })
})
