import {afterAll, afterEach, beforeAll, expect, it} from 'vitest'
import {describeEachDialect} from '../helpers/test-database.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {has, KEY, renderTui, type TuiDriver} from './tui-driver.js'

/**
 * Keys typed fast (or pasted) arrive before the screen they lead to is drawn: each must go where
 * the key before it sent the input (a prompt opened by n takes the next keys), and several keys
 * in one read from the terminal are each handled.
 */
describeEachDialect('tui: keys arriving at once', (dialect) => {
  let t: TestCore
  let tui: TuiDriver | undefined
  beforeAll(async () => {
    t = await createTestCore(dialect)
    for (const slug of ['keys-a', 'keys-b', 'keys-c', 'keys-d', 'keys-e']) await t.core.orgs.createOrg(OPERATOR, {name: slug, slug})
  })
  afterEach(() => tui?.unmount())
  afterAll(async () => t?.close())

  const deletedSlugs = async () => (await t.core.orgs.listOrgs(OPERATOR, {includeDeleted: true})).filter((org) => org.deletedAt).map((org) => org.slug)

  it('n then d a millisecond later, then y: no delete (the prompt took d)', async () => {
    tui = renderTui(t.core, OPERATOR)
    await tui.waitFor(has('> keys-a'), 'the org list')
    tui.type('n')
    await new Promise((resolve) => setTimeout(resolve, 1))
    tui.type('d')
    await new Promise((resolve) => setTimeout(resolve, 1))
    tui.type('y')
    await tui.waitFor(has('New organization name: dy_'), 'dy in the name prompt')
    await tui.press(KEY.escape, (frame) => !frame.includes('New organization name'), 'the prompt closed')
    expect(await deletedSlugs()).toEqual([])
  })

  it("n, d, y as three reads in one tick: d and y are typed into the name prompt, nothing is deleted", async () => {
    const before = await t.core.audit.latestSeq()
    tui = renderTui(t.core, OPERATOR)
    await tui.waitFor(has('> keys-a'), 'the org list')
    tui.type('n', 'd', 'y')
    await tui.waitFor(has('New organization name: dy_'), 'dy in the name prompt')
    await tui.press(KEY.escape, (frame) => !frame.includes('New organization name'), 'the prompt closed')
    expect(await deletedSlugs()).toEqual([])
    expect(await t.core.audit.latestSeq()).toBe(before)
  })

  it('d then y in one tick: the question opened by d takes the y', async () => {
    tui = renderTui(t.core, OPERATOR)
    await tui.waitFor(has('> keys-a'), 'the org list')
    tui.type('j', 'd', 'y')
    await tui.waitFor((frame) => frame.includes('Deleted organization keys-b') && /> keys-b\s+deleted/.test(frame), 'keys-b deleted')
    expect(await deletedSlugs()).toEqual(['keys-b'])
    await t.core.orgs.restoreOrg(OPERATOR, {org: 'keys-b'})
  })

  it('"jjj" in one read moves three rows; "\\x7f\\x7f\\x7f" deletes three characters', async () => {
    tui = renderTui(t.core, OPERATOR)
    await tui.waitFor(has('> keys-a'), 'the org list')
    await tui.press('jjj', has('> keys-d'), 'three rows down')
    await tui.press('k', has('> keys-c'), 'one up')
    await tui.press('/', has('Search (slug or name):'), 'the search prompt')
    await tui.press('keys-abc', has('name): keys-abc_'), 'typed')
    await tui.press('\u007F\u007F\u007F', has('name): keys-_'), 'three deleted in one read')
  })

  it('a pasted "ten\\rant\\n" fills the name and slug prompts; a double Enter takes the tier default', async () => {
    tui = renderTui(t.core, OPERATOR)
    await tui.waitFor(has('> keys-a'), 'the org list')
    await tui.press('n', has('New organization name:'), 'the name prompt')
    await tui.press('ten\rant\n', has('Tier (free, basic, premium, enterprise): free'), 'the tier prompt')
    await tui.press(KEY.enter, has('Created organization ant'), 'created')
    expect((await t.core.orgs.showOrg(OPERATOR, {org: 'ant'})).name).toBe('ten')
    // Name, Enter, Enter, Enter as separate reads in one tick: every prompt gets its Enter.
    await tui.press('n', has('New organization name:'), 'the name prompt')
    tui.type('Quick', KEY.enter, KEY.enter, KEY.enter)
    await tui.waitFor(has('Created organization quick'), 'created with defaults')
    expect(await t.core.orgs.showOrg(OPERATOR, {org: 'quick'})).toMatchObject({name: 'Quick', tier: 'free'})
  })

  it('q right after the Enter that ends the last prompt quits', async () => {
    tui = renderTui(t.core, OPERATOR)
    await tui.waitFor(has('organization(s)'), 'the org list')
    await tui.press('/', has('Search (slug or name):'), 'the search prompt')
    tui.type('keys-e', KEY.enter)
    // A millisecond later: before the prompt's line is gone from the screen.
    await new Promise((resolve) => setTimeout(resolve, 1))
    tui.type('q')
    await tui.waitFor(() => tui!.hasExited(), 'the exit')
  })
})
