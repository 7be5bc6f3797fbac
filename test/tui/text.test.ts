import {describe, expect, it} from 'vitest'
import {DomainError} from '../../src/errors/domain-error.js'
import {footerHint, PANES, paneAfter, paneOfKey} from '../../commands/tui/keys.js'
import {parseKeys} from '../../commands/tui/input.js'
import {column, describeError, displayWidth, fitEnd, fitLine, moveCursor, printable, visibleWindow, wrapAll, wrapText} from '../../commands/tui/text.js'

/** Anything but a line break that could drive a terminal. */
const TERMINAL_CONTROL = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/

describe('tui text and keys (pure)', () => {
  it('fitLine cuts with an ellipsis and pads to the width; newlines never break a row', () => {
    expect(fitLine('abcdef', 4)).toBe('abc…')
    expect(fitLine('ab', 4)).toBe('ab  ')
    expect(fitLine('a\nb', 5)).toBe('a b  ')
  })

  it('wrapText keeps at most the given lines, each within the width', () => {
    const lines = wrapText('Error [member.last_owner] Cannot demote someone: they are the last owner of the organization acme', 40, 2)
    expect(lines).toHaveLength(2)
    expect(lines[0]!.startsWith('Error [member.last_owner]')).toBe(true)
    for (const line of lines) expect(line.length).toBe(40)
  })

  it('describeError gives a DomainError code first; anything else is internal.error', () => {
    expect(describeError(new DomainError('org.slug_taken', 'Slug acme is taken'))).toBe('[org.slug_taken] Slug acme is taken')
    expect(describeError(new Error('boom'))).toBe('[internal.error] boom')
    expect(describeError(Object.assign(new Error('locked'), {code: 'SQLITE_BUSY'}))).toMatch(/^\[db\.busy\] /)
  })

  it('the visible window keeps the cursor in view; the cursor stays in the list', () => {
    expect(visibleWindow(100, 99, 10)).toEqual({start: 90, end: 100})
    expect(visibleWindow(100, 0, 10)).toEqual({start: 0, end: 10})
    expect(visibleWindow(3, 2, 10)).toEqual({start: 0, end: 3})
    expect(moveCursor(2, 10, 5)).toBe(4)
    expect(moveCursor(0, -1, 5)).toBe(0)
  })

  it('number keys and Tab name the panes; every footer fits 80 columns', () => {
    expect(paneOfKey('1')).toBe('orgs')
    expect(paneOfKey('5')).toBe('audit')
    expect(paneOfKey('6')).toBeNull()
    expect(paneAfter('audit', 1)).toBe('orgs')
    expect(paneAfter('orgs', -1)).toBe('audit')
    for (const pane of PANES) expect(footerHint(pane).length).toBeLessThanOrEqual(79)
  })

  it('every cell helper shows ESC, BS, OSC, C1 and bidi controls as visible \\u escapes', () => {
    const hostile = 'ci\b\b\bcli:root\u001B]0;PWNED\u0007\u001B]52;c;ZWNobyBoaQ==\u0007\u001B[8mX\u009B2J\u202Eexe'
    for (const shown of [fitLine(hostile, 200), column(hostile, 200), fitEnd(hostile, 200), ...wrapText(hostile, 40, 5), ...wrapAll(hostile, 40)]) {
      expect(shown).not.toMatch(TERMINAL_CONTROL)
    }
    expect(printable(hostile)).toBe('ci\\u0008\\u0008\\u0008cli:root\\u001b]0;PWNED\\u0007\\u001b]52;c;ZWNobyBoaQ==\\u0007\\u001b[8mX\\u009b2J\\u202eexe')
    // Idempotent: a composed row of escaped columns is not escaped twice.
    expect(fitLine(column('a\u001Bb', 10), 12)).toBe('a\\u001bb    ')
  })

  it('widths are display columns: CJK and emoji take two, a cut never splits a grapheme', () => {
    expect(displayWidth('東京')).toBe(4)
    expect(fitLine('東京都', 5)).toBe('東京…')
    expect(fitLine('東京都', 4)).toBe('東… ')
    expect(displayWidth(fitLine('東京都', 4))).toBe(4)
    expect(column('👨‍👩‍👧👨‍👩‍👧', 4)).toBe('👨‍👩‍👧👨‍👩‍👧')
    expect(column('👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧', 4)).toBe('👨‍👩‍👧… ')
    expect(fitLine('e\u0301e\u0301e\u0301', 2)).toBe('e\u0301…')
    expect(fitEnd('abc東京', 4)).toBe('…京')
    expect(displayWidth(fitLine('😀'.repeat(50), 79))).toBeLessThanOrEqual(79)
  })

  it('wrapAll breaks a link anywhere and cuts nothing', () => {
    const link = `https://app.example.com/accept-invitation?token=${'x'.repeat(100)}`
    const lines = wrapAll(`Accept link:\n${link}`, 40)
    expect(lines[0]!.trimEnd()).toBe('Accept link:')
    expect(lines.slice(1).map((line) => line.trimEnd()).join('')).toBe(link)
    for (const line of lines) expect(displayWidth(line)).toBe(40)
  })

  it('one read of several keys is split into keys: "jjj", DEL DEL DEL, a pasted "ten\\rant\\n", an arrow between letters', () => {
    expect(parseKeys('jjj').map((press) => press.input)).toEqual(['j', 'j', 'j'])
    expect(parseKeys('\u007F\u007F\b').every((press) => press.key.backspace)).toBe(true)
    expect(parseKeys('ten\rant\n').map((press) => (press.key.return ? '⏎' : press.input)).join('')).toBe('ten⏎ant⏎')
    const mixed = parseKeys('a\u001B[Bb\u001B')
    expect(mixed.map((press) => [press.input, press.key.downArrow, press.key.escape])).toEqual([['a', false, false], ['', true, false], ['b', false, false], ['', false, true]])
    expect(parseKeys('\u001B[6~')[0]!.key.pageDown).toBe(true)
    expect(parseKeys('\u001B[Z')[0]!.key).toMatchObject({tab: true, shift: true})
    expect(parseKeys('\u0003')[0]).toMatchObject({input: 'c', key: {ctrl: true}})
    expect(parseKeys('東😀')).toHaveLength(2)
  })
})
