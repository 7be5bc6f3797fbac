import {afterAll, beforeAll, expect, it} from 'vitest'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {ACME_FILE, apply, changeList, countRows, plan} from './provisioning-fixtures.js'

describeEachDialect('provisioning: plan and apply', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  it('plans every object to create, applies it through the audited services, and a second apply has nothing to do', async () => {
    const planned = await plan(t.core, ACME_FILE)
    expect(changeList(planned)).toEqual([
      'create user alice@acme.test',
      'create user bob@acme.test',
      'create user carol@acme.test',
      'create flag new-ui',
      'create org acme/acme',
      'create role acme/auditor',
      'create member acme/alice@acme.test',
      'create member acme/bob@acme.test',
      'create apikey acme/ci',
      'create apikey acme/reporting',
      'create flag_override acme/new-ui',
      'create org globex/globex',
      'create member globex/carol@acme.test',
      'create member globex/alice@acme.test',
    ])
    expect(planned.plan.summary).toEqual({create: 14, update: 0, delete: 0})
    expect((await countRows(t.core)).orgs).toBe(0)

    const before = await t.core.audit.latestSeq()
    const {outcome} = await apply(t.core, ACME_FILE)
    expect(outcome.appliedOrgs).toEqual(['acme', 'globex'])
    expect(outcome.secrets.map((secret) => secret.name)).toEqual(['ci', 'reporting'])
    expect(outcome.secrets[0]!.secret).toMatch(/^sk_/)

    const acme = await t.core.orgs.showOrg(OPERATOR, {org: 'acme'})
    expect(acme).toMatchObject({name: 'Acme', tier: 'enterprise', domain: 'acme.test', memberCount: 2})
    expect(await t.core.orgLimits.showLimits(OPERATOR, {org: 'acme'})).toMatchObject({overrides: {seats: 50, rpm: 'unlimited'}})
    const members = (await t.core.members.listMembers(OPERATOR, {org: 'acme'})).items
    expect(members.map((member) => [member.email, member.role])).toEqual([['alice@acme.test', 'owner'], ['bob@acme.test', 'auditor']])
    expect(await t.core.flags.showFlag(OPERATOR, {key: 'new-ui'})).toMatchObject({rolloutPercentage: 10, overrides: [{orgSlug: 'acme', enabled: true}]})
    const users = await t.core.users.listUsers(OPERATOR)
    expect(users.find((user) => user.email === 'alice@acme.test')).toMatchObject({name: 'Alice'})

    // Every change left its event, as the CLI's commands leave them.
    const actions = (await t.core.audit.listEventsAfter({afterSeq: before}, 1000)).map((event) => event.action)
    for (const action of ['user.created', 'flag.created', 'org.created', 'org.updated', 'org.limits_updated', 'role.created', 'member.added', 'apikey.created', 'flag.override_set']) expect(actions).toContain(action)
    expect(actions.filter((action) => action === 'member.added')).toHaveLength(4)
    expect(actions.every((action) => !action.startsWith('user.') || action === 'user.created')).toBe(true)

    const again = await plan(t.core, ACME_FILE)
    expect(again.plan.changes).toEqual([])
    const rows = await countRows(t.core)
    const {outcome: noop} = await apply(t.core, ACME_FILE)
    expect(noop.appliedOrgs).toEqual([])
    expect(await countRows(t.core)).toEqual(rows)
  })

  it('plans updates (fields, a role change, permissions, an override) and, with --prune only, deletes', async () => {
    const changed = ACME_FILE.replace('tier: enterprise', 'tier: premium')
      .replace('{user: bob@acme.test, role: auditor}', '{user: bob@acme.test, role: admin}')
      .replace('permissions: [audit.read, org.read]', 'permissions: [audit.read]')
      .replace('new-ui: on', 'new-ui: off')
      .replace("      - {name: reporting, permissions: [audit.read]}\n", '')
      .replace('    name: Bob\n', '    name: Robert\n')
    const withoutPrune = await plan(t.core, changed)
    expect(changeList(withoutPrune)).toEqual([
      'update user bob@acme.test',
      'update org acme/acme',
      'update role acme/auditor',
      'update member acme/bob@acme.test',
      'update flag_override acme/new-ui',
    ])
    expect(withoutPrune.plan.changes.find((change) => change.kind === 'member')?.changes).toEqual({role: {from: 'auditor', to: 'admin'}})
    expect(withoutPrune.plan.changes.find((change) => change.kind === 'org')?.changes).toEqual({tier: {from: 'enterprise', to: 'premium'}})

    const pruned = await plan(t.core, changed, {prune: true})
    // Revocations run before the overrides: the order the applier follows.
    expect(changeList(pruned)).toEqual([...changeList(withoutPrune).slice(0, 4), 'delete apikey acme/reporting', 'update flag_override acme/new-ui'])
    expect(pruned.plan.summary).toEqual({create: 0, update: 5, delete: 1})

    await apply(t.core, changed, {prune: true})
    expect((await t.core.members.listMembers(OPERATOR, {org: 'acme'})).items.find((member) => member.email === 'bob@acme.test')?.role).toBe('admin')
    const keys = await t.core.apiKeys.listApiKeys(OPERATOR, {org: 'acme'})
    expect(keys.find((key) => key.name === 'reporting')?.revokedAt).not.toBeNull()
    expect(keys.find((key) => key.name === 'ci')?.revokedAt).toBeNull()
    expect((await plan(t.core, changed, {prune: true})).plan.changes).toEqual([])
  })

  it('keeps an existing API key by name: never re-created, a difference only warned about', async () => {
    // (reporting was revoked above: a revoked key's name cannot be given again, see the validation tests)
    const different = ACME_FILE.replace('{name: ci, role: member}', '{name: ci, role: admin}').replace("      - {name: reporting, permissions: [audit.read]}\n", '')
    const planned = await plan(t.core, different)
    expect(planned.plan.changes.filter((change) => change.kind === 'apikey')).toEqual([])
    expect(planned.plan.warnings.join('\n')).toContain('apikey acme/ci differs from the file')
  })
})
