import {describe, expect, it} from 'vitest'
import {formatCheckLines} from '../../commands/doctor.js'
import {checkClock, classifyClockSkew, formatSkew, isPlausibleYear} from '../../src/doctor/clock-check.js'
import {createFixedClock} from '../../src/security/clock.js'

describe('doctor: clock skew between this host and the database server', () => {
  it.each([
    [0, 'ok'],
    [4_999, 'ok'],
    [5_000, 'ok'],
    [-5_000, 'ok'],
    [5_001, 'warn'],
    [-5_001, 'warn'],
    [30_000, 'warn'],
    [60_000, 'warn'],
    [-60_000, 'warn'],
    [60_001, 'fail'],
    [-60_001, 'fail'],
    [86_400_000, 'fail'],
    [Number.NaN, 'fail'],
    [Number.POSITIVE_INFINITY, 'fail'],
  ])('%d ms → %s', (skew, status) => {
    expect(classifyClockSkew(skew)).toBe(status)
  })

  it('years before 2025 or after 2100 are implausible', () => {
    expect(isPlausibleYear(new Date('2026-11-29T17:00:00Z'))).toBe(true)
    expect(isPlausibleYear(new Date('2100-12-31T23:59:59Z'))).toBe(true)
    expect(isPlausibleYear(new Date('1970-01-01T00:00:00Z'))).toBe(false)
    expect(isPlausibleYear(new Date('2024-12-31T23:59:59Z'))).toBe(false)
    expect(isPlausibleYear(new Date('2101-01-01T00:00:00Z'))).toBe(false)
  })

  it('formats the skew signed, in seconds', () => {
    expect(formatSkew(12)).toBe('+0.012 s')
    expect(formatSkew(-75_300)).toBe('-75.300 s')
  })

  it('on SQLite the server comparison is n/a (ok), but an implausible year still warns', async () => {
    const noDatabase = undefined as never // SQLite: the database is not asked
    expect(await checkClock(noDatabase, 'sqlite', createFixedClock(new Date('2026-11-29T17:00:00Z')))).toMatchObject({check: 'clock', status: 'ok', detail: expect.stringContaining('n/a on SQLite')})
    expect(await checkClock(noDatabase, 'sqlite', createFixedClock(new Date('1970-01-01T00:00:00Z')))).toMatchObject({check: 'clock', status: 'warn', detail: expect.stringContaining('1970 is implausible')})
  })
})

describe('doctor: one line per check', () => {
  const results = [
    {check: 'config', status: 'ok', detail: 'loaded'},
    {check: 'smtp', status: 'warn', detail: 'no smtp_url'},
    {check: 'file_permissions', status: 'fail', detail: 'mode 0644 \u001b[2J'},
  ] as const

  it('without colour: ok / warn / FAIL, names aligned, control characters escaped', () => {
    const lines = formatCheckLines([...results], false)
    expect(lines).toEqual(['ok   config            loaded', 'warn smtp              no smtp_url', 'FAIL file_permissions  mode 0644 \\u001b[2J'])
  })

  it('with colour: ✓ ! ✗ in green, yellow, red', () => {
    const lines = formatCheckLines([...results], true)
    expect(lines[0]).toBe('\u001b[32m✓\u001b[0m config            loaded')
    expect(lines[1]).toContain('\u001b[33m!\u001b[0m smtp')
    expect(lines[2]).toContain('\u001b[31m✗\u001b[0m file_permissions')
  })
})
