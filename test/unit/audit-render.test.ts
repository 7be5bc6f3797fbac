import stringWidth from 'string-width'
import {describe, expect, it} from 'vitest'
import {formatAuditLine} from '../../commands/audit/render.js'
import {auditTime, formatAuditRow, namesForEvents} from '../../commands/tui/audit-pane.js'
import type {AuditEvent} from '../../src/audit/audit-log.js'
import type {AuditNames} from '../../src/audit/audit-names.js'

/** Anything but a line break that could drive a terminal. */
const TERMINAL_CONTROL = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/

function event(fields: Partial<AuditEvent>): AuditEvent {
  return {seq: 1, id: 'e1', action: 'invitation.created', orgId: 'org-1', actor: {type: 'api_key', id: 'key-1', name: 'ci'}, target: null, metadata: {}, ip: null, userAgent: null, requestId: null, createdAt: '2026-03-04T05:06:07.000Z', ...fields}
}

const NAMES: AuditNames = {orgSlugs: new Map([['org-1', 'acme']]), userEmails: new Map([['user-1', 'ada@example.com']])}

describe('audit lines (audit tail) and rows (the TUI audit pane)', () => {
  const HOSTILE = 'ci\b\b\b\bcli:root\u001B]0;PWNED\u0007\u001B]52;c;ZWNobyBoaQ==\u0007\u001B[2J\u009B2J\u202Eexe'

  it("audit tail's human line shows a key's name with BS, OSC, CSI, C1 and bidi as \\u escapes (metadata too)", () => {
    const line = formatAuditLine(event({actor: {type: 'api_key', id: 'key-1', name: HOSTILE}, metadata: {name: HOSTILE}}), NAMES)
    expect(line).not.toMatch(TERMINAL_CONTROL)
    expect(line).toContain('api_key:ci\\u0008\\u0008\\u0008\\u0008cli:root\\u001b]0;PWNED\\u0007')
    expect(line).toContain('org=acme (org-1)')
  })

  it('the line and the row name the same actor, org and target (one look-up for both)', () => {
    const byUser = event({actor: {type: 'user', id: 'user-1', name: null}, target: {type: 'org', id: 'org-1'}})
    expect(formatAuditLine(byUser, NAMES)).toContain('user:ada@example.com (user-1)  org=acme (org-1)  org:acme (org-1)')
    expect(formatAuditRow(byUser, NAMES, new Date('2026-03-04T12:00:00Z'))).toMatch(/^05:06:07\s+invitation\.created\s+user:ada@example\.com\s+acme\s+org:acme$/)
    const unknown = event({actor: {type: 'user', id: 'user-2', name: null}, orgId: 'org-2'})
    expect(formatAuditLine(unknown, NAMES)).toContain('user:user-2  org=org-2')
    expect(formatAuditRow(unknown, NAMES, new Date('2026-03-04T12:00:00Z'))).toMatch(/user:user-2\s+org-2\s+-$/)
  })

  it('rows show the time of today, month-day and minute of another day this year, the date of another year; 80 columns', () => {
    expect(auditTime('2026-03-04T05:06:07.000Z', new Date('2026-03-04T23:59:59Z'))).toBe('05:06:07')
    expect(auditTime('2026-03-04T05:06:07.000Z', new Date('2026-03-05T00:00:00Z'))).toBe('03-04 05:06')
    expect(auditTime('2025-12-31T05:06:07.000Z', new Date('2026-01-01T00:00:00Z'))).toBe('2025-12-31')
    const row = formatAuditRow(event({actor: {type: 'api_key', id: 'k', name: HOSTILE}, target: {type: 'invitation', id: 'inv-1'}}), NAMES, new Date('2027-01-01T00:00:00Z'))
    expect(row).not.toMatch(TERMINAL_CONTROL)
    expect(row.startsWith('2026-03-04  invitation.created ')).toBe(true)
    // The fixed columns end before 80, with room left for the target.
    expect(stringWidth(row.slice(0, row.indexOf('invitation:')))).toBeLessThan(72)
  })

  it('the names kept are those the kept events use, from the newest source first', () => {
    const events = [event({orgId: 'org-1', actor: {type: 'user', id: 'user-1', name: null}})]
    const kept = namesForEvents(events, {orgSlugs: new Map([['org-1', 'renamed']]), userEmails: new Map()}, {orgSlugs: new Map([['org-1', 'acme'], ['org-9', 'gone']]), userEmails: new Map([['user-1', 'ada@example.com'], ['user-9', 'old@example.com']])})
    expect([...kept.orgSlugs]).toEqual([['org-1', 'renamed']])
    expect([...kept.userEmails]).toEqual([['user-1', 'ada@example.com']])
  })
})
