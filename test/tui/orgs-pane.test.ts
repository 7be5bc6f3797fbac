import {afterAll, afterEach, beforeAll, expect, it} from 'vitest'
import {describeEachDialect} from '../helpers/test-database.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {has, KEY, renderTui, type TuiDriver} from './tui-driver.js'

describeEachDialect('tui: the Orgs pane', (dialect) => {
  let t: TestCore
  let tui: TuiDriver | undefined
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterEach(() => tui?.unmount())
  afterAll(async () => t?.close())

  const orgBySlug = async (slug: string) => (await t.core.orgs.listOrgs(OPERATOR, {includeDeleted: true})).find((org) => org.slug === slug)

  it('creates an organization through the org service, audited as org.created by the operator', async () => {
    tui = renderTui(t.core, OPERATOR)
    await tui.waitFor(has('organization(s)'), 'the org list')
    await tui.press('n', has('New organization name:'), 'the name prompt')
    await tui.press('Created Here', has('Created Here'), 'the typed name')
    await tui.press(KEY.enter, has('Slug (empty: from the name):'), 'the slug prompt')
    await tui.press('created-here', has('created-here'), 'the typed slug')
    await tui.press(KEY.enter, has('Tier (free, basic, premium, enterprise): free'), 'the tier prompt with its default')
    await tui.press('\u007F'.repeat(1), has('enterprise): fre_'), 'one character deleted')
    await tui.press('\u007F', has('enterprise): fr_'), 'two deleted')
    await tui.press('\u007F', has('enterprise): f_'), 'three deleted')
    await tui.press('\u007F', has('enterprise): _'), 'the default cleared')
    await tui.press('premium', has('enterprise): premium'), 'the typed tier')
    // The cursor moves to the new organization once the list is read again.
    await tui.press(KEY.enter, (frame) => frame.includes('Created organization created-here') && /> created-here\s+active\s+premium\s+0\s+Created Here/.test(frame), 'the new org')
    const org = await orgBySlug('created-here')
    expect(org).toMatchObject({name: 'Created Here', tier: 'premium', deletedAt: null})
    const events = await t.core.audit.listEvents({action: 'org.created', orgId: org!.id}, 10)
    expect(events).toHaveLength(1)
    expect(events[0]!.actor).toMatchObject({type: 'cli', name: 'test-operator'})
  })

  it('shows a duplicate slug in place (message and code), keeps running and writes nothing', async () => {
    await t.core.orgs.createOrg(OPERATOR, {name: 'Taken', slug: 'taken'})
    const before = await t.core.audit.latestSeq()
    tui = renderTui(t.core, OPERATOR)
    await tui.waitFor(has('taken'), 'the org list')
    await tui.press('n', has('New organization name:'), 'the name prompt')
    await tui.press('Another', has('Another'), 'the typed name')
    await tui.press(KEY.enter, has('Slug'), 'the slug prompt')
    await tui.press('taken', has('Slug (empty: from the name): taken'), 'the typed slug')
    await tui.press(KEY.enter, has('Tier ('), 'the tier prompt')
    const frame = await tui.press(KEY.enter, has('[org.slug_taken]'), 'the error in place')
    expect(frame).toMatch(/Error \[org\.slug_taken\] \S/)
    expect((await t.core.orgs.listOrgs(OPERATOR)).filter((org) => org.slug === 'taken')).toHaveLength(1)
    expect(await t.core.audit.latestSeq()).toBe(before)
    // Still alive: the help opens.
    await tui.press('?', has('Keys everywhere'), 'the help after an error')
  })

  it('soft-deletes only after y; n cancels; r restores; each through the service and audited', async () => {
    const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Doomed', slug: 'doomed'})
    tui = renderTui(t.core, OPERATOR)
    await tui.waitFor(has('doomed'), 'the org list')
    await tui.press('/', has('Search (slug or name):'), 'the search prompt')
    await tui.press('doom', has('Search (slug or name): doom'), 'the typed search')
    await tui.press(KEY.enter, (frame) => frame.includes('search "doom"') && /> doomed/.test(frame), 'the search result')
    await tui.press('d', has('Delete organization doomed? It can be restored with r. [y/N]'), 'the confirmation')
    await tui.press('n', has('Cancelled'), 'the cancellation')
    expect((await orgBySlug('doomed'))!.deletedAt).toBeNull()
    await tui.press('d', has('[y/N]'), 'the confirmation again')
    await tui.press('y', (frame) => frame.includes('Deleted organization doomed') && /> doomed .*deleted/.test(frame), 'the deletion')
    expect((await orgBySlug('doomed'))!.deletedAt).not.toBeNull()
    expect(await t.core.audit.listEvents({action: 'org.deleted', orgId: org.id}, 10)).toHaveLength(1)
    await tui.press('r', (frame) => frame.includes('Restored organization doomed') && /> doomed .*active/.test(frame), 'the restore')
    expect((await orgBySlug('doomed'))!.deletedAt).toBeNull()
    expect(await t.core.audit.listEvents({action: 'org.restored', orgId: org.id}, 10)).toHaveLength(1)
  })

  it('Esc cancels a prompt without calling the service', async () => {
    const before = await t.core.audit.latestSeq()
    tui = renderTui(t.core, OPERATOR)
    await tui.waitFor(has('organization(s)'), 'the org list')
    await tui.press('n', has('New organization name:'), 'the name prompt')
    await tui.press('Never', has('Never'), 'the typed name')
    await tui.press(KEY.escape, (frame) => !frame.includes('New organization name:'), 'the prompt closed')
    expect(await orgBySlug('never')).toBeUndefined()
    expect(await t.core.audit.latestSeq()).toBe(before)
  })

  it('the cursor stays on the selected organization when one before it appears elsewhere (kept by id, not position)', async () => {
    await t.core.orgs.createOrg(OPERATOR, {name: 'Sel B', slug: 'sel-b'})
    await t.core.orgs.createOrg(OPERATOR, {name: 'Sel C', slug: 'sel-c'})
    tui = renderTui(t.core, OPERATOR)
    await tui.waitFor(has('organization(s)'), 'the org list')
    await tui.press('/', has('Search'), 'the search prompt')
    await tui.press('sel-\r', (frame) => frame.includes('search "sel-"') && frame.includes('> sel-b'), 'the search')
    await tui.press('j', (frame) => frame.includes('> sel-c') && frame.includes('org: sel-c'), 'the cursor on sel-c')
    // Another process creates an org that sorts first; the list is read again when Orgs is shown.
    await t.core.orgs.createOrg(OPERATOR, {name: 'Sel A', slug: 'sel-a'})
    await tui.press('2', has('[2 Members]'), 'the members pane')
    const frame = await tui.press('1', (current) => current.includes('[1 Orgs]') && current.includes('3 of') && current.includes('  sel-a'), 'the orgs read again')
    expect(frame).toContain('> sel-c')
    expect(frame).toContain('org: sel-c')
  })
})
