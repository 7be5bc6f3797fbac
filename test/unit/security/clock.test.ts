import {describe, expect, it} from 'vitest'
import {createFixedClock, systemClock} from '../../../src/security/clock.js'

describe('systemClock', () => {
  it('reads the wall clock', () => {
    const before = Date.now()
    const now = systemClock.now().getTime()
    const after = Date.now()
    expect(now).toBeGreaterThanOrEqual(before)
    expect(now).toBeLessThanOrEqual(after)
  })
})

describe('createFixedClock', () => {
  const start = new Date('2030-01-01T00:00:00.000Z')

  it('stays at its start until moved', () => {
    const clock = createFixedClock(start)
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z')
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z')
  })

  it('advances by milliseconds, forwards and backwards', () => {
    const clock = createFixedClock(start)
    clock.advance(90_000)
    expect(clock.now().toISOString()).toBe('2030-01-01T00:01:30.000Z')
    clock.advance(-30_000)
    expect(clock.now().toISOString()).toBe('2030-01-01T00:01:00.000Z')
  })

  it('jumps with set', () => {
    const clock = createFixedClock(start)
    clock.set(new Date('2031-06-15T12:00:00.000Z'))
    expect(clock.now().toISOString()).toBe('2031-06-15T12:00:00.000Z')
  })

  it('cannot be moved by mutating a Date it was given or handed out', () => {
    const mutableStart = new Date(start)
    const clock = createFixedClock(mutableStart)
    mutableStart.setUTCFullYear(1999)
    clock.now().setUTCFullYear(1999)
    const setTo = new Date('2032-01-01T00:00:00.000Z')
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z')
    clock.set(setTo)
    setTo.setUTCFullYear(1999)
    expect(clock.now().toISOString()).toBe('2032-01-01T00:00:00.000Z')
  })

  it('refuses invalid dates and non-finite steps', () => {
    expect(() => createFixedClock(new Date('nonsense'))).toThrow(RangeError)
    const clock = createFixedClock(start)
    expect(() => clock.set(new Date(Number.NaN))).toThrow(RangeError)
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError)
    expect(() => clock.advance(Number.POSITIVE_INFINITY)).toThrow(RangeError)
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z')
  })
})
