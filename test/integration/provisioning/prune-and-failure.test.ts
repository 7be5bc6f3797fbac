import {afterAll, beforeAll, expect, it} from 'vitest'
import {applyPlan} from '../../../src/provisioning/provisioning.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {apply, changeList, countRows, plan} from './provisioning-fixtures.js'

const BASE = `
users:
  - {email: owner@a.test}
  - {email: extra@a.test}
  - {email: owner@b.test}
  - {email: extra@b.test}
flags:
  - {key: beta}
orgs:
  - slug: org-a
    name: A
    roles: [{key: support, permissions: [members.read]}]
    members: [{user: owner@a.test, role: owner}, {user: extra@a.test, role: support}]
    flags: {beta: on}
    api_keys: [{name: ci, role: viewer}]
  - slug: org-b
    name: B
    roles: [{key: support, permissions: [members.read]}]
    members: [{user: owner@b.test, role: owner}, {user: extra@b.test, role: support}]
    flags: {beta: on}
    api_keys: [{name: ci, role: viewer}]
`

describeEachDialect('provisioning: prune and failures', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
    await apply(t.core, BASE)
  })
  afterAll(async () => t?.close())

  it('--prune deletes only within the organizations the file names, never users, and keeps the last-owner rule', async () => {
    const onlyA = 'orgs:\n  - slug: org-a\n    name: A\n    members: [{user: owner@a.test, role: owner}]\n'
    expect((await plan(t.core, onlyA)).plan.changes).toEqual([])
    const pruned = await plan(t.core, onlyA, {prune: true})
    expect(changeList(pruned)).toEqual(['delete member org-a/extra@a.test', 'delete apikey org-a/ci', 'delete role org-a/support', 'delete flag_override org-a/beta'])
    const before = await countRows(t.core)
    await apply(t.core, onlyA, {prune: true})
    const after = await countRows(t.core)
    expect(after).toMatchObject({users: before.users, members: before.members - 1, roles: before.roles - 1, overrides: before.overrides - 1, orgs: before.orgs})
    // org-b, which the file does not name, is as it was.
    const membersB = (await t.core.members.listMembers(OPERATOR, {org: 'org-b'})).items.map((member) => `${member.email}:${member.role}`)
    expect(membersB).toEqual(['owner@b.test:owner', 'extra@b.test:support'])
    expect((await t.core.apiKeys.listApiKeys(OPERATOR, {org: 'org-b'})).every((key) => key.revokedAt === null)).toBe(true)
    expect((await t.core.flags.showFlag(OPERATOR, {key: 'beta'})).overrides.map((override) => override.orgSlug)).toEqual(['org-b'])
    // The user removed from org-a still exists.
    expect((await t.core.users.listUsers(OPERATOR)).map((user) => user.email)).toContain('extra@a.test')
    // Handing ownership over in one apply: the new owner is promoted before the old one is removed.
    const handOver = 'orgs:\n  - slug: org-a\n    name: A\n    members: [{user: extra@a.test, role: owner}]\n'
    expect(changeList(await plan(t.core, handOver, {prune: true}))).toEqual(['create member org-a/extra@a.test', 'delete member org-a/owner@a.test'])
    await apply(t.core, handOver, {prune: true})
    expect((await t.core.members.listMembers(OPERATOR, {org: 'org-a'})).items.map((member) => `${member.email}:${member.role}`)).toEqual(['extra@a.test:owner'])
  })

  it('a failure mid-apply rolls back that organization only: orgs before it stay, none after it runs', async () => {
    const text = `
users:
  - {email: new@b.test}
  - {email: owner@c.test}
orgs:
  - slug: org-a
    name: A renamed
  - slug: org-b
    name: B
    members: [{user: new@b.test, role: member}]
    api_keys: [{name: deploy, role: viewer}]
  - slug: org-c
    name: C
    members: [{user: owner@c.test, role: owner}]
`
    const planned = await plan(t.core, text)
    expect(changeList(planned)).toEqual([
      'create user new@b.test',
      'create user owner@c.test',
      'update org org-a/org-a',
      'create member org-b/new@b.test',
      'create apikey org-b/deploy',
      'create org org-c/org-c',
      'create member org-c/owner@c.test',
    ])
    // Between the plan and the apply someone else takes the key's name: the service refuses it
    // after org-b's member was added in the same transaction.
    await t.core.apiKeys.createApiKey(OPERATOR, {org: 'org-b', name: 'deploy', role: 'viewer'})
    const seqBefore = await t.core.audit.latestSeq()
    const outcome = await applyPlan(t.core, planned.plan, {actor: OPERATOR})
    expect(outcome.failure).toMatchObject({code: 'apikey.name_taken'})
    expect(outcome.failure?.message).toContain('organization "org-b" was not applied (rolled back; 1 organization(s) applied before it, none after)')
    expect(outcome.usersApplied).toBe(2)
    expect(outcome.appliedOrgs).toEqual(['org-a'])
    expect(outcome.secrets).toEqual([])
    // Committed: the users, and org-a. Rolled back: org-b's member and its events. Never run: org-c.
    expect((await t.core.orgs.showOrg(OPERATOR, {org: 'org-a'})).name).toBe('A renamed')
    expect((await t.core.members.listMembers(OPERATOR, {org: 'org-b'})).items.map((member) => member.email)).not.toContain('new@b.test')
    await expect(t.core.orgs.showOrg(OPERATOR, {org: 'org-c'})).rejects.toMatchObject({code: 'org.not_found'})
    const actions = (await t.core.audit.listEventsAfter({afterSeq: seqBefore}, 100)).map((event) => `${event.action}`)
    expect(actions).toEqual(['user.created', 'user.created', 'org.updated'])
  })
})
