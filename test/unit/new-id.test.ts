import {describe, expect, it} from 'vitest'
import {validate, version} from 'uuid'
import {newUuidV7} from '../../src/shared/new-id.js'

describe('newUuidV7', () => {
  it('makes valid, distinct UUIDv7s that sort in the order they were made (within a millisecond and across pool refills)', () => {
    const ids = Array.from({length: 5000}, () => newUuidV7())
    for (const id of ids) {
      expect(validate(id)).toBe(true)
      expect(version(id)).toBe(7)
      expect(id[19]).toMatch(/[89ab]/)
    }
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
  })

  it('carries the current time in its first 48 bits', () => {
    const before = Date.now()
    const id = newUuidV7()
    const msecs = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)
    expect(msecs).toBeGreaterThanOrEqual(before)
    expect(msecs).toBeLessThanOrEqual(Date.now() + 1)
  })
})
