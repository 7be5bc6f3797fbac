import {afterAll, afterEach, beforeAll, expect, it} from 'vitest'
import {createOrgFixtures} from '../helpers/org-fixtures.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {has, KEY, renderTui, type TuiDriver} from './tui-driver.js'

describeEachDialect('tui: the live audit tail', (dialect) => {
  let t: TestCore
  let tui: TuiDriver | undefined
  const fixtures = createOrgFixtures(() => t)
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterEach(() => tui?.unmount())
  afterAll(async () => t?.close())

  it('shows events written after it opened (polled from the core) with org slugs and user emails, and filters them', async () => {
    const seeded = await fixtures.seedOrg('tailed', {ada: 'owner', bob: 'member'})
    tui = renderTui(t.core, OPERATOR)
    await tui.press('5', (frame) => frame.includes('[5 Audit]') && frame.includes('no filters') && /member\.added\s+cli:test-operator\s+tailed/.test(frame), 'the tail with the seeded events')
    // Written after the pane opened, by someone else: a member acting through the service.
    await t.core.members.setMemberRole(seeded.as('ada'), {org: seeded.org.id, user: seeded.users.bob!.id, role: 'viewer'})
    await t.core.orgs.createOrg(OPERATOR, {name: 'Later', slug: 'later-org'})
    let frame = await tui.waitFor((current) => /member\.role_updated\s+user:tailed-ada/.test(current) && /org\.created\s+cli:test-operator\s+later-org/.test(current), 'the new events')
    expect(frame).toMatch(/member\.role_updated\s+user:tailed-ada\S*\s+tailed\s/)

    await tui.press('a', has('Filter by action'), 'the action prompt')
    await tui.press('member.*', has('member.*'), 'the typed pattern')
    frame = await tui.press(KEY.enter, (current) => current.includes('action=member.*') && current.includes('member.role_updated'), 'the filtered tail')
    expect(frame).not.toContain('org.created')

    await tui.press('u', has('Filter by actor'), 'the actor prompt')
    await tui.press('nobody-at-all', has('nobody-at-all'), 'the typed actor')
    await tui.press(KEY.enter, (current) => current.includes('actor=nobody-at-all') && current.includes('No events yet'), 'nothing by that actor')

    await tui.press('c', (current) => current.includes('no filters') && current.includes('org.created'), 'the filters cleared')
    await tui.press('o', has('Filter by org'), 'the org prompt')
    await tui.press('no-such-org', has('no-such-org'), 'the typed org')
    await tui.press(KEY.enter, has('Error [org.not_found]'), 'the unknown org in place')
    await tui.press('o', has('Filter by org'), 'the org prompt')
    await tui.press('later-org', has(': later-org'), 'the typed org')
    frame = await tui.press(KEY.enter, (current) => current.includes('org=later-org') && current.includes('org.created'), 'the org filter')
    expect(frame).toMatch(/org\.created\s+cli:test-operator\s+later-org/)
    expect(frame).not.toContain('member.')
  })

  it('keeps its filters when another pane is shown and it comes back', async () => {
    tui = renderTui(t.core, OPERATOR)
    await tui.press('5', has('no filters'), 'the audit pane')
    await tui.press('a', has('Filter by action'), 'the action prompt')
    await tui.press('member.*\r', has('action=member.*'), 'filtered')
    await tui.press('1', has('[1 Orgs]'), 'the orgs pane')
    const frame = await tui.press('5', (current) => current.includes('[5 Audit]') && current.includes('Live audit tail'), 'the audit pane again')
    expect(frame).toContain('action=member.*')
    expect(frame).not.toContain('no filters')
  })

  it('a filter that rarely matches: each poll starts after the newest event read before it, not after the last match', async () => {
    const calls: {afterSeq: number; throughSeq?: number}[] = []
    const original = t.core.audit.listEventsAfter
    t.core.audit.listEventsAfter = (filter, limit) => {
      calls.push({afterSeq: filter.afterSeq, throughSeq: filter.throughSeq})
      return original.call(t.core.audit, filter, limit)
    }
    try {
      tui = renderTui(t.core, OPERATOR)
      await tui.press('5', has('no filters'), 'the audit pane')
      await tui.press('a', has('Filter by action'), 'the action prompt')
      await tui.press('nothing.matches.*\r', (current) => current.includes('action=nothing.matches.*') && current.includes('No events yet'), 'filtered')
      for (const slug of ['poll-a', 'poll-b', 'poll-c']) await t.core.orgs.createOrg(OPERATOR, {name: slug, slug})
      const newest = await t.core.audit.latestSeq()
      await tui.waitFor(() => calls.some((call) => (call.throughSeq ?? 0) >= newest), 'a poll through the newest event')
      await t.core.orgs.createOrg(OPERATOR, {name: 'poll-d', slug: 'poll-d'})
      // None of those matched, yet the next poll starts after them.
      await tui.waitFor(() => calls.some((call) => call.afterSeq >= newest), 'a poll after the newest event')
    } finally {
      t.core.audit.listEventsAfter = original
    }
  })

  it('shows the date of events from another day, the time of today\'s (UTC)', async () => {
    const before = await t.core.audit.latestSeq()
    await t.core.orgs.createOrg(OPERATOR, {name: 'Dated', slug: 'dated-old'})
    t.clock.advance(3 * 86_400_000)
    try {
      await t.core.orgs.createOrg(OPERATOR, {name: 'Dated', slug: 'dated-new'})
      const [earlier, today] = await t.core.audit.listEventsAfter({afterSeq: before, action: 'org.created'})
      tui = renderTui(t.core, OPERATOR)
      const frame = await tui.press('5', (current) => current.includes('dated-new'), 'the audit pane')
      const row = (slug: string) => frame.split('\n').find((line) => line.includes('org.created') && line.includes(slug))!
      expect(row('dated-old')).toContain(`${earlier!.createdAt.slice(5, 10)} ${earlier!.createdAt.slice(11, 16)} org.created`)
      expect(row('dated-new')).toContain(`${today!.createdAt.slice(11, 19)}    org.created`)
    } finally {
      t.clock.set(new Date('2026-01-01T00:00:00.000Z'))
    }
  })
})
