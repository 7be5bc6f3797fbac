import {sql} from 'kysely'
import * as yaml from 'yaml'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {isDomainError} from '../../../src/errors/domain-error.js'
import {USERS_PER_TRANSACTION} from '../../../src/provisioning/apply-plan.js'
import {applyPlan, planFile} from '../../../src/provisioning/provisioning.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {apply, changeList, exportYaml, plan, twoEmptyCores} from './provisioning-fixtures.js'

/** The messages of the problems of a file that must not plan. */
async function problemsOf(t: TestCore, text: string, options: {prune?: boolean} = {}): Promise<string[]> {
  const error = await plan(t.core, text, options).then(
    () => null,
    (caught: unknown) => caught,
  )
  if (!isDomainError(error) || error.code !== 'provisioning.invalid') throw new Error(`expected provisioning.invalid, got ${String(error)}`)
  return (error.details as {problems: {text: string}[]}).problems.map((problem) => problem.text)
}

async function membersOf(t: TestCore, org: string): Promise<string[]> {
  return (await t.core.members.listMembers(OPERATOR, {org})).items.map((member) => `${member.email}:${member.role}`).sort()
}

describeEachDialect('provisioning: members, owners and seats as the services count them', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  it('--prune swaps a member of a full organization: the removal runs before the add', async () => {
    await apply(t.core, `users: [{email: a@swap.test}, {email: b@swap.test}, {email: c@swap.test}]
orgs: [{slug: swap, name: S, limits: {seats: 2}, members: [{user: a@swap.test, role: owner}, {user: b@swap.test, role: member}]}]`)
    const planned = await plan(t.core, 'orgs: [{slug: swap, name: S, limits: {seats: 2}, members: [{user: a@swap.test, role: owner}, {user: c@swap.test, role: member}]}]', {prune: true})
    expect(changeList(planned)).toEqual(['delete member swap/b@swap.test', 'create member swap/c@swap.test'])
    const outcome = await applyPlan(t.core, planned.plan, {actor: OPERATOR})
    expect(outcome.failure).toBeNull()
    expect(await membersOf(t, 'swap')).toEqual(['a@swap.test:owner', 'c@swap.test:member'])
  })

  it('counts pending invitations in the seats, as the member service does; a new owner of a full org needs a free seat first', async () => {
    await apply(t.core, `users: [{email: a@inv.test}, {email: b@inv.test}, {email: c@inv.test}]
orgs: [{slug: inv, name: I, limits: {seats: 2}, members: [{user: a@inv.test, role: owner}]}]`)
    await t.core.invitations.invite(OPERATOR, {org: 'inv', email: 'someone@inv.test', role: 'member'})
    const add = 'orgs: [{slug: inv, name: I, members: [{user: a@inv.test, role: owner}, {user: b@inv.test, role: member}]}]'
    expect(await problemsOf(t, add)).toEqual(['tenants.yaml:1:38: orgs[0].members: 2 members and 1 pending invitation(s) exceed the organization\'s 2 seats (raise limits.seats or the tier)'])
    // Raising the limit in the same file is what it takes: then the service agrees.
    await apply(t.core, 'orgs: [{slug: inv, name: I, limits: {seats: 3}, members: [{user: a@inv.test, role: owner}, {user: b@inv.test, role: member}]}]')
    expect(await membersOf(t, 'inv')).toEqual(['a@inv.test:owner', 'b@inv.test:member'])
    // Handing the org over to a new owner adds them before removing the old one: one seat more at that moment.
    const handOver = 'orgs: [{slug: inv, name: I, members: [{user: c@inv.test, role: owner}, {user: b@inv.test, role: member}]}]'
    expect(await problemsOf(t, handOver, {prune: true})).toEqual([
      'tenants.yaml:1:38: orgs[0].members: 2 members and 1 pending invitation(s) exceed the organization\'s 3 seats (while the new owners are added, before the removals: 3) (raise limits.seats or the tier)',
    ])
  })

  it('a disabled owner does not count as an owner (the last-owner rule of the member service): the plan refuses and nothing is written', async () => {
    await apply(t.core, `users: [{email: a@dis.test}, {email: b@dis.test}]
orgs: [{slug: dis, name: D, members: [{user: a@dis.test, role: owner}, {user: b@dis.test, role: owner}]}]`)
    await t.core.users.disableUser(OPERATOR, {user: 'b@dis.test'})
    const demote = `users: [{email: new@dis.test}]
orgs: [{slug: dis, name: D, members: [{user: a@dis.test, role: admin}, {user: b@dis.test, role: owner}]}]`
    expect(await problemsOf(t, demote)).toEqual(['tenants.yaml:2:38: orgs[0].members: no active owner would remain: name at least one member who is not disabled with role owner'])
    await expect(t.core.users.showUser(OPERATOR, {user: 'new@dis.test'})).rejects.toMatchObject({code: 'user.not_found'})
    // The same file with the disabled owner enabled by it: enabled first, then the demotion is allowed.
    await apply(t.core, demote.replace('{email: new@dis.test}', '{email: new@dis.test}, {email: b@dis.test, disabled: false}'))
    expect(await membersOf(t, 'dis')).toEqual(['a@dis.test:admin', 'b@dis.test:owner'])
  })

  it('--prune deletes an override of a flag named like an Object.prototype member ("constructor")', async () => {
    await apply(t.core, `users: [{email: a@ctor.test}]
flags: [{key: constructor}, {key: tostring}]
orgs: [{slug: ctor, name: C, members: [{user: a@ctor.test, role: owner}], flags: {constructor: on, tostring: off}}]`)
    const planned = await plan(t.core, 'orgs: [{slug: ctor, name: C, members: [{user: a@ctor.test, role: owner}], flags: {tostring: off}}]', {prune: true})
    expect(changeList(planned)).toEqual(['delete flag_override ctor/constructor'])
  })

  it('commits users and flags in chunks: a failure keeps the chunks before it, and the plan read again holds only the rest', async () => {
    const count = USERS_PER_TRANSACTION * 2 + 50
    const emails = Array.from({length: count}, (_, index) => `u${String(index).padStart(4, '0')}@chunk.test`)
    const file = `users:\n${emails.map((email) => `  - {email: ${email}}`).join('\n')}\n`
    const planned = await plan(t.core, file)
    // Someone else creates the user the third chunk would create first.
    const taken = emails[USERS_PER_TRANSACTION * 2]!
    await t.core.users.createUser(OPERATOR, {email: taken})
    const outcome = await applyPlan(t.core, planned.plan, {actor: OPERATOR})
    expect(outcome.failure).toMatchObject({code: 'user.email_taken'})
    expect(outcome.usersApplied).toBe(USERS_PER_TRANSACTION * 2)
    const stored = await t.core.database.db.selectFrom('user_account').select('email').where('email', 'like', '%@chunk.test').execute()
    expect(stored).toHaveLength(USERS_PER_TRANSACTION * 2 + 1)
    // A rerun picks up where it stopped.
    const rest = await plan(t.core, file)
    expect(rest.plan.changes).toHaveLength(49)
    expect((await applyPlan(t.core, rest.plan, {actor: OPERATOR})).failure).toBeNull()
    expect((await plan(t.core, file)).plan.changes).toEqual([])
  })
})

describeEachDialect('provisioning: disabled users in export and apply', (dialect) => {
  const cores = twoEmptyCores(dialect)

  /** Every user with their state, by email. */
  async function userStates(t: TestCore): Promise<string[]> {
    return (await t.core.users.listUsers(OPERATOR)).map((user) => `${user.email}:${user.disabledAt ? 'disabled' : 'active'}`).sort()
  }

  it('export writes disabled: true, and applying the export keeps the user disabled (a member still)', async () => {
    const {first, second} = cores
    await apply(first.core, `users: [{email: owner@rt.test}, {email: gone@rt.test}, {email: idle@rt.test}]
orgs: [{slug: rt, name: RT, members: [{user: owner@rt.test, role: owner}, {user: gone@rt.test, role: member}]}]`)
    await first.core.users.disableUser(OPERATOR, {user: 'gone@rt.test'})
    await first.core.users.disableUser(OPERATOR, {user: 'idle@rt.test'})
    const exported = await exportYaml(first.core)
    expect((yaml.parse(exported) as {users: unknown[]}).users).toEqual([{email: 'gone@rt.test', disabled: true}, {email: 'idle@rt.test', disabled: true}, {email: 'owner@rt.test'}])
    expect((await plan(first.core, exported)).plan.changes).toEqual([])

    const {planned} = await apply(second.core, exported)
    expect(changeList(planned).at(-1)).toBe('create member rt/gone@rt.test')
    expect(await userStates(second)).toEqual(await userStates(first))
    expect(await userStates(second)).toEqual(['gone@rt.test:disabled', 'idle@rt.test:disabled', 'owner@rt.test:active'])
    expect(await membersOf(second, 'rt')).toEqual(['gone@rt.test:member', 'owner@rt.test:owner'])
    expect(await exportYaml(second.core)).toBe(exported)
  })

  it('disabled: false enables a user, disabled: true disables an existing one; left out, the state is left as it is', async () => {
    const {second} = cores
    const planned = await plan(second.core, 'users: [{email: gone@rt.test, disabled: false}, {email: owner@rt.test}, {email: idle@rt.test}]')
    expect(planned.plan.changes.map((change) => [change.name, change.changes])).toEqual([['gone@rt.test', {disabled: {from: true, to: false}}]])
    await applyPlan(second.core, planned.plan, {actor: OPERATOR})
    await apply(second.core, 'users: [{email: owner@rt.test, disabled: true}]')
    expect(await userStates(second)).toEqual(['gone@rt.test:active', 'idle@rt.test:disabled', 'owner@rt.test:disabled'])
  })
})

describeEachDialect('provisioning: a concurrent create of the same organization', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  it.runIf(dialect === 'postgres')('is org.slug_taken (not an internal error) when the other transaction commits while the apply waits on the slug', async () => {
    await apply(t.core, 'users: [{email: owner@race.test}]')
    const planned = await planFile(t.core, {yaml, text: 'orgs: [{slug: race, name: Race, members: [{user: owner@race.test, role: owner}]}]', file: 'race.yaml', prune: false})
    const db = t.core.database.db
    const outcome = await db.transaction().execute(async (other) => {
      // The other writer's org is inserted but not committed: the apply's insert waits on the unique slug.
      await t.core.servicesOn(other, t.core.revocationSignal).orgs.createOrg(OPERATOR, {name: 'Race', slug: 'race'})
      const applying = applyPlan(t.core, planned.plan, {actor: OPERATOR})
      for (let attempt = 0; attempt < 500; attempt++) {
        const waiting = await sql<{count: string}>`select count(*) as count from pg_locks where not granted`.execute(db)
        if (Number(waiting.rows[0]!.count) > 0) break
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      return {applying}
    })
    const result = await outcome.applying
    expect(result.failure).toMatchObject({code: 'org.slug_taken'})
    expect(result.appliedOrgs).toEqual([])
  })
})
