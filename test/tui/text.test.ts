import {describe, expect, it} from 'vitest'
import {DomainError} from '../../src/errors/domain-error.js'
import {footerHint, PANES, paneAfter, paneOfKey} from '../../commands/tui/keys.js'
import {describeError, fitLine, moveCursor, visibleWindow, wrapText} from '../../commands/tui/text.js'

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
})
