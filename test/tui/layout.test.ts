import './force-color.js'
import stringWidth from 'string-width'
import {afterAll, afterEach, beforeAll, expect, it} from 'vitest'
import {createOrgFixtures} from '../helpers/org-fixtures.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {ANSI_ESCAPE, has, KEY, renderTui, type TuiDriver} from './tui-driver.js'

describeEachDialect('tui: layout, help and NO_COLOR', (dialect) => {
  let t: TestCore
  let tui: TuiDriver | undefined
  const fixtures = createOrgFixtures(() => t)
  const LONG = 'an-organization-with-a-name-far-longer-than-any-column-of-an-eighty-column-terminal'
  const CJK = '東京都渋谷区株式会社東京都渋谷区株式会社東京都渋谷区株式会社'
  const EMOJI = '👨‍👩‍👧😀🇯🇵👍🏽e\u0301'.repeat(6)
  beforeAll(async () => {
    t = await createTestCore(dialect)
    const seeded = await fixtures.seedOrg('aaa-first', {ada: 'owner'})
    await t.core.invitations.invite(OPERATOR, {org: seeded.org.id, email: `${'very-long-local-part-'.repeat(3)}@example.com`, role: 'member'})
    await t.core.orgs.createOrg(OPERATOR, {name: LONG, slug: LONG.slice(0, 60)})
    for (let index = 0; index < 30; index += 1) await t.core.orgs.createOrg(OPERATOR, {name: `Filler ${index}`, slug: `filler-${String(index).padStart(2, '0')}`})
    await t.core.flags.createFlag(OPERATOR, {key: 'a-flag-key-that-goes-on-and-on-and-on-past-its-column', description: LONG})
    // Wide text: two columns a character (CJK, emoji), combining marks none.
    const {org: cjk} = await t.core.orgs.createOrg(OPERATOR, {name: CJK, slug: 'cjk-wide'})
    await t.core.orgs.deleteOrg(OPERATOR, {org: cjk.id})
    await t.core.orgs.createOrg(OPERATOR, {name: EMOJI, slug: 'emoji-wide'})
  })
  afterEach(() => tui?.unmount())
  afterAll(async () => t?.close())

  /** Visits every pane, the help, a prompt, a confirmation and an error. */
  async function tour(driver: TuiDriver): Promise<void> {
    await driver.waitFor(has('> aaa-first'), 'the org list read')
    await driver.press('?', has('Keys of the Orgs pane'), 'the help')
    await driver.press(KEY.escape, has('/ search'), 'the help closed')
    await driver.press('\u001B[6~', has('> filler-'), 'a page down')
    await driver.press('n', has('New organization name:'), 'a prompt')
    await driver.press(`${LONG}${LONG}`, has('…'), 'a long input')
    await driver.press(KEY.escape, (frame) => !frame.includes('New organization name:'), 'the prompt closed')
    await driver.press('d', has('[y/N]'), 'a confirmation')
    await driver.press('n', has('Cancelled'), 'the cancellation')
    await driver.press('/', has('Search'), 'the search prompt')
    await driver.press('aaa-first', has(': aaa-first'), 'the typed search')
    await driver.press(KEY.enter, (frame) => frame.includes('search "aaa-first"') && frame.includes('org: aaa-first'), 'the org selected')
    await driver.press('2', has('very-long-local-part'), 'the members pane')
    await driver.press('e', has('New role of'), 'the role prompt')
    await driver.press('no-such-role', has('no-such-role'), 'the typed role')
    await driver.press(KEY.enter, has('Error [role.not_found]'), 'an error')
    await driver.press('3', has('Permissions of owner:'), 'the roles pane')
    await driver.press('4', has('a-flag-key-that'), 'the flags pane')
    await driver.press('?', has('Keys of the Flags pane'), "the flags pane's help")
    await driver.press('?', has('t toggle'), 'the help closed')
    await driver.press('5', has('org.created'), 'the audit pane')
  }

  it('every frame fits 80 columns and 24 rows, in every pane, with long names, prompts and errors', async () => {
    const driver = renderTui(t.core, OPERATOR, {color: true, columns: 80, rows: 24})
    tui = driver
    await tour(driver)
    const frames = driver.frames()
    expect(frames.length).toBeGreaterThan(10)
    for (const frame of frames) {
      const lines = frame.replaceAll(/\u001B\[[0-9;]*m/g, '').split('\n')
      expect(lines.length).toBeLessThanOrEqual(24)
      // Measured as the terminal draws them: display columns, not code units.
      for (const line of lines) expect(stringWidth(line), line).toBeLessThanOrEqual(80)
    }
  })

  it('wide (CJK, emoji) names are measured in display columns and cut at grapheme boundaries; the status column is never cut', async () => {
    tui = renderTui(t.core, OPERATOR, {columns: 80})
    await tui.waitFor(has('organization(s)'), 'the org list')
    await tui.press('/', has('Search'), 'the search prompt')
    const frame = await tui.press('-wide\r', (current) => current.includes('search "-wide"') && current.includes('emoji-wide'), 'the wide names')
    const cjkRow = frame.split('\n').find((line) => /^[> ] cjk-wide /.test(line))!
    const emojiRow = frame.split('\n').find((line) => /^[> ] emoji-wide /.test(line))!
    expect(cjkRow).toMatch(/cjk-wide\s+deleted\s+free\s+0\s+東京都/)
    expect(emojiRow).toMatch(/emoji-wide\s+active\s+free\s+0\s+👨‍👩‍👧😀🇯🇵👍🏽/)
    for (const row of [cjkRow, emojiRow]) {
      // Filled to the width of the pane (79: one column short of the edge; 78 when a two-column
      // character did not fit the last column), an ellipsis marking the cut.
      expect(stringWidth(row.trimEnd())).toBeGreaterThanOrEqual(78)
      expect(stringWidth(row)).toBeLessThanOrEqual(79)
      expect(row.trimEnd().endsWith('…')).toBe(true)
      // No grapheme is split: every cluster of the cut name is one of the name's own.
      const shown = row.trimEnd().slice(0, -1).split(/\s+0\s+/)[1]!
      const segmenter = new Intl.Segmenter(undefined, {granularity: 'grapheme'})
      const whole = new Set([...segmenter.segment((CJK + EMOJI).normalize('NFC'))].map(({segment}) => segment))
      for (const {segment} of segmenter.segment(shown.normalize('NFC'))) expect(whole.has(segment), segment).toBe(true)
    }
  })

  it('? lists the keys of the pane shown, and Esc closes it', async () => {
    tui = renderTui(t.core, OPERATOR)
    await tui.waitFor(has('organization(s)'), 'the org list')
    let frame = await tui.press('?', has('Keys everywhere'), 'the help')
    expect(frame).toMatch(/\/\s+search by slug or name/)
    expect(frame).toMatch(/d\s+soft delete \(asks first\)/)
    await tui.press(KEY.escape, (current) => !current.includes('Keys everywhere'), 'the help closed')
    await tui.press('5', has('[5 Audit]'), 'the audit pane')
    frame = await tui.press('?', has('Keys of the Audit pane'), "the audit pane's help")
    expect(frame).toMatch(/a\s+filter by action/)
    // Keys do not reach the pane under the help.
    await tui.press('q', (current) => !current.includes('Keys everywhere'), 'the help closed by q')
  })

  it('without colour (NO_COLOR) no frame holds an escape sequence; with colour they do', async () => {
    const plain = renderTui(t.core, OPERATOR, {color: false})
    tui = plain
    await tour(plain)
    const escaped = plain.frames().filter((frame) => ANSI_ESCAPE.test(frame))
    expect(escaped).toEqual([])
    expect(plain.frame()).toContain('org.created')
    plain.unmount()
    // The same screen in colour does use escapes (the assertion above can fail).
    const coloured = renderTui(t.core, OPERATOR, {color: true})
    tui = coloured
    await coloured.waitFor((frame) => frame.includes('organization(s)') && ANSI_ESCAPE.test(frame), 'a coloured frame')
  })
})
