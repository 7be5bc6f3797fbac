import {afterAll, beforeAll, expect, it} from 'vitest'
import {isDomainError} from '../../../src/errors/domain-error.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {apply, countRows, plan} from './provisioning-fixtures.js'

interface ProblemShape {
  path: string
  message: string
  line?: number
  column?: number
  text: string
}

/** The problems of a file that must not plan. */
async function problemsOf(t: TestCore, text: string, options: {prune?: boolean} = {}): Promise<ProblemShape[]> {
  const error = await plan(t.core, text, options).then(
    () => null,
    (caught: unknown) => caught,
  )
  if (!isDomainError(error)) throw new Error(`expected provisioning.invalid, got ${String(error)}`)
  expect(error.code).toBe('provisioning.invalid')
  return (error.details as {problems: ProblemShape[]}).problems
}

describeEachDialect('provisioning: validation', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
    await apply(t.core, 'users: [{email: owner@initech.test}]\norgs:\n  - {slug: initech, name: Initech, members: [{user: owner@initech.test, role: owner}], api_keys: [{name: old, role: viewer}]}\n')
    await t.core.apiKeys.revokeApiKey(OPERATOR, {org: 'initech', id: (await t.core.apiKeys.listApiKeys(OPERATOR, {org: 'initech'}))[0]!.id})
  })
  afterAll(async () => t?.close())

  it('lists every reference problem with its path, line and column, and writes nothing', async () => {
    const before = await countRows(t.core)
    const text = [
      'users:',
      '  - email: ann@x.test',
      '  - email: ann@x.test',
      'orgs:',
      '  - slug: alpha',
      '    name: Alpha',
      '    roles:',
      '      - {key: support, permissions: [members.read, tickets.close]}',
      '    members:',
      '      - {user: ann@x.test, role: owner}',
      '      - {user: ghost@x.test, role: member}',
      '      - {user: ann@x.test, role: admn}',
      '    flags: {no-such-flag: on}',
      '    api_keys:',
      '      - {name: ci, role: support}',
      '      - {name: ci, permissions: [org.read]}',
      '  - slug: alpha',
      '    name: Alpha again',
      '  - slug: initech',
      '    name: Initech',
      '    api_keys: [{name: old, role: viewer}]',
    ].join('\n')
    const problems = await problemsOf(t, text)
    const texts = problems.map((problem) => problem.text)
    expect(texts).toEqual(expect.arrayContaining([
      'tenants.yaml:3:12: users[1].email: duplicate user "ann@x.test"',
      'tenants.yaml:8:37: orgs[0].roles[0].permissions: unknown permission(s) "tickets.close"',
      'tenants.yaml:11:16: orgs[0].members[1].user: unknown user "ghost@x.test" (not in the file\'s users nor in the database)',
      'tenants.yaml:12:16: orgs[0].members[2].user: duplicate member "ann@x.test"',
      'tenants.yaml:12:34: orgs[0].members[2].role: unknown role "admn"',
      'tenants.yaml:13:27: orgs[0].flags.no-such-flag: unknown flag "no-such-flag"',
      'tenants.yaml:16:16: orgs[0].api_keys[1].name: duplicate API key "ci"',
      'tenants.yaml:17:11: orgs[1].slug: duplicate organization "alpha"',
      'tenants.yaml:21:23: orgs[2].api_keys[0].name: the name "old" belongs to a revoked key of "initech"; give the key another name',
    ]))
    expect(problems).toHaveLength(9)
    expect(await countRows(t.core)).toEqual(before)
  })

  it('reports schema problems (wrong values, unknown fields) with their paths before looking at references', async () => {
    const problems = await problemsOf(t, 'orgs:\n  - slug: Not A Slug\n    name: X\n    tier: gold\n    colour: red\n    limits: {seats: -1}\n')
    expect(problems.map((problem) => `${problem.line}:${problem.column} ${problem.path}`)).toEqual(expect.arrayContaining(['2:11 orgs[0].slug', '4:11 orgs[0].tier', '6:21 orgs[0].limits.seats', '5:13 orgs[0]']))
    expect(problems.find((problem) => problem.path === 'orgs[0]')?.message).toBe('unknown field(s) "colour"')
  })

  it('reports a YAML syntax error as one problem with its line, and JSON errors too', async () => {
    const yamlProblems = await problemsOf(t, 'orgs:\n  - slug: acme\n   name: [x\n')
    expect(yamlProblems).toHaveLength(1)
    expect(yamlProblems[0]!.text).toMatch(/^tenants\.yaml:\d+:\d+: not valid YAML or JSON: /)
    expect(yamlProblems[0]!.text).not.toContain('\n')
    const jsonProblems = await problemsOf(t, '{"orgs": [{"slug": "acme", "name": 5}]}')
    expect(jsonProblems.map((problem) => problem.text)).toEqual(['tenants.yaml:1:36: orgs[0].name: Invalid input: expected string, received number'])
  })

  it('refuses to leave an organization without an owner, and more members than seats', async () => {
    const problems = await problemsOf(t, 'users: [{email: v@initech.test}]\norgs:\n  - slug: initech\n    name: Initech\n    members: [{user: v@initech.test, role: viewer}]\n', {prune: true})
    expect(problems.map((problem) => problem.message)).toEqual(['no active owner would remain: name at least one member who is not disabled with role owner'])
    const seats = await problemsOf(t, 'users: [{email: a@s.test}, {email: b@s.test}]\norgs:\n  - slug: seats\n    name: Seats\n    limits: {seats: 1}\n    members: [{user: a@s.test, role: owner}, {user: b@s.test, role: member}]\n')
    expect(seats.map((problem) => problem.path)).toEqual(['orgs[0].members'])
    expect(seats[0]!.message).toContain('2 members exceed the organization\'s 1 seats')
  })

  it('refuses a custom role the file would prune but a member still names', async () => {
    await t.core.roles.createRole(OPERATOR, {org: 'initech', key: 'legacy', name: 'Legacy', permissions: ['org.read']})
    const text = 'users: [{email: owner@initech.test}, {email: l@initech.test}]\norgs:\n  - slug: initech\n    name: Initech\n    members: [{user: owner@initech.test, role: owner}, {user: l@initech.test, role: legacy}]\n'
    expect((await plan(t.core, text)).plan.changes.map((change) => change.kind)).toEqual(['user', 'member'])
    expect((await problemsOf(t, text, {prune: true})).map((problem) => problem.text)).toEqual(['tenants.yaml:5:85: orgs[0].members[1].role: unknown role "legacy"'])
    // A key the file keeps still holds the role --prune would delete.
    await t.core.apiKeys.createApiKey(OPERATOR, {org: 'initech', name: 'legacy-key', role: 'legacy'})
    const keeps = 'users: [{email: owner@initech.test}]\norgs:\n  - slug: initech\n    name: Initech\n    members: [{user: owner@initech.test, role: owner}]\n    api_keys: [{name: legacy-key, role: viewer}]\n'
    expect((await problemsOf(t, keeps, {prune: true})).map((problem) => problem.message)).toEqual(['the key holds role "legacy", which --prune would delete; revoke the key or keep the role'])
  })
})
