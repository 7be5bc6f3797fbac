import {afterAll, afterEach, beforeAll, expect, it} from 'vitest'
import {createOrgFixtures} from '../helpers/org-fixtures.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {has, KEY, renderTuiOnOrg, type TuiDriver} from './tui-driver.js'

describeEachDialect('tui: the Roles and Flags panes', (dialect) => {
  let t: TestCore
  let tui: TuiDriver | undefined
  const fixtures = createOrgFixtures(() => t)
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterEach(() => tui?.unmount())
  afterAll(async () => t?.close())

  /** The TUI with the cursor of the Orgs pane on `slug` (by search). */
  async function selectOrg(slug: string): Promise<TuiDriver> {
    const driver = await renderTuiOnOrg(t.core, OPERATOR, slug)
    tui = driver
    return driver
  }

  it('lists built-in and custom roles with the permissions of the one under the cursor; creates a custom role (role.created)', async () => {
    const seeded = await fixtures.seedOrg('roled', {ada: 'owner'})
    const driver = await selectOrg('roled')
    let frame = await driver.press('3', (current) => current.includes('[3 Roles]') && current.includes('roled: 4 role(s)'), 'the roles pane')
    expect(frame).toMatch(/> owner\s+\S.*built-in/)
    expect(frame).toContain('Permissions of owner:')
    await driver.press('n', has('New role of roled, key:'), 'the key prompt')
    await driver.press('billing', has('key: billing'), 'the typed key')
    await driver.press(KEY.enter, has('Name: billing'), 'the name prompt')
    await driver.press(KEY.enter, has('Permissions (comma-separated'), 'the permissions prompt')
    await driver.press('org.read,members.read', has('org.read,members.read'), 'the typed permissions')
    await driver.press(KEY.enter, has('Level (1 like viewer'), 'the level prompt')
    frame = await driver.press(KEY.enter, (current) => current.includes('Created role billing in roled') && current.includes('roled: 5 role(s)'), 'the new role')
    expect(frame).toMatch(/billing\s+billing\s+custom/)
    const role = await t.core.roles.showRole(OPERATOR, {org: seeded.org.id, role: 'billing'})
    expect([...role.permissions].sort()).toEqual(['members.read', 'org.read'])
    expect(await t.core.audit.listEvents({action: 'role.created', orgId: seeded.org.id}, 10)).toHaveLength(1)
    // A built-in role cannot be deleted: said in place, no confirmation asked.
    await driver.press('x', has('owner is built in and cannot be deleted'), 'the refusal')
  })

  it('toggles a default, overrides for the selected org and sets a rollout, all through the flag service and audited', async () => {
    const seeded = await fixtures.seedOrg('flagged', {ada: 'owner'})
    await t.core.flags.createFlag(OPERATOR, {key: 'new-billing'})
    const before = await t.core.audit.latestSeq()
    const driver = await selectOrg('flagged')
    await driver.press('4', (frame) => /> new-billing\s+off\s+none\s+0\s+off \(default\)/.test(frame), 'the flags pane with the org value')
    // The default is every org's: asked first, naming the flag; anything but y leaves it.
    await driver.press('t', has('Turn new-billing on by default, for every org without an override? [y/N]'), 'the question')
    await driver.press('n', has('Cancelled'), 'the cancellation')
    expect((await t.core.flags.showFlag(OPERATOR, {key: 'new-billing'})).defaultEnabled).toBe(false)
    expect(await t.core.audit.latestSeq()).toBe(before)
    await driver.press('t', has('Turn new-billing on by default'), 'the question again')
    await driver.press('y', (frame) => frame.includes('Flag new-billing is now on by default') && /> new-billing\s+on\s+none\s+0\s+on \(default\)/.test(frame), 'the toggle')
    await driver.press('o', has('Override new-billing for flagged (on, off, clear):'), 'the override prompt')
    await driver.press('off', has('clear): off'), 'the typed value')
    await driver.press(KEY.enter, (frame) => /> new-billing\s+on\s+none\s+1\s+off \(override\)/.test(frame), 'the override')
    await driver.press('p', has('Rollout of new-billing (0-100, none): none'), 'the rollout prompt')
    await driver.press('\u007F', has('(0-100, none): non_'), 'one character deleted')
    await driver.press('\u007F', has('(0-100, none): no_'), 'two characters deleted')
    await driver.press('\u007F', has('(0-100, none): n_'), 'three characters deleted')
    await driver.press('\u007F', has('(0-100, none): _'), 'the prompt cleared')
    await driver.press('25', has('none): 25'), 'the typed rollout')
    await driver.press(KEY.enter, (frame) => frame.includes('Rollout of new-billing: 25%') && /> new-billing\s+on\s+25%/.test(frame), 'the rollout')
    await driver.press('o', has('Override new-billing'), 'the override prompt')
    await driver.press('maybe', has('clear): maybe'), 'a bad value')
    await driver.press(KEY.enter, has('Error [validation.failed]'), 'the error in place')
    const flag = await t.core.flags.showFlag(OPERATOR, {key: 'new-billing'})
    expect(flag).toMatchObject({defaultEnabled: true, rolloutPercentage: 25, overrides: [{orgId: seeded.org.id, enabled: false}]})
    const events = await t.core.audit.listEventsAfter({afterSeq: before})
    expect(events.map((event) => event.action)).toEqual(['flag.updated', 'flag.override_set', 'flag.updated'])
    expect(events.every((event) => event.actor.type === 'cli' && event.actor.name === 'test-operator')).toBe(true)
  })
})
