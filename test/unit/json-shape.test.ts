import {describe, expect, it} from 'vitest'
import {toCamelCase, toCamelShape, toJsonShape, toSnakeCase} from '../../src/shared/json-shape.js'

describe('toCamelShape', () => {
  it('converts snake_case keys to camelCase deeply, through arrays, leaving values alone', () => {
    expect(toCamelShape({org_name: 'a_b', nested: [{refresh_token: 1, a_b_c: {d_e: null}}], plain: 'x'})).toEqual({
      orgName: 'a_b',
      nested: [{refreshToken: 1, aBC: {dE: null}}],
      plain: 'x',
    })
    expect(toCamelShape([1, 'two', null, {x_y: [{z_w: 3}]}])).toEqual([1, 'two', null, {xY: [{zW: 3}]}])
    expect(toCamelShape('text')).toBe('text')
    expect(toCamelShape(undefined)).toBeUndefined()
  })

  it('keeps leading, trailing and doubled underscores, and keeps key order (the last duplicate wins)', () => {
    expect(Object.keys(toCamelShape({_private: 1, trailing_: 2, two__parts: 3, b_c: 4, a: 5}) as object)).toEqual(['_private', 'trailing_', 'two__parts', 'bC', 'a'])
    expect(toCamelShape({org_name: 'first', orgName: 'second'})).toEqual({orgName: 'second'})
  })

  it('keeps a __proto__ key a plain key: the copy keeps the ordinary prototype', () => {
    const shaped = toCamelShape(JSON.parse('{"__proto__": {"polluted": true}, "ok_key": 1}')) as Record<string, unknown>
    expect(Object.getPrototypeOf(shaped)).toBe(Object.prototype)
    expect(shaped.polluted).toBeUndefined()
    expect(Object.keys(shaped)).toEqual(['__proto__', 'okKey'])
  })

  it('handles very deep nesting without overflowing the stack', () => {
    const deep: Record<string, unknown> = {}
    let current = deep
    for (let index = 0; index < 100_000; index++) current = (current.a_b = {}) as Record<string, unknown>
    let shaped = toCamelShape(deep) as Record<string, unknown>
    for (let index = 0; index < 100_000; index++) shaped = shaped.aB as Record<string, unknown>
    expect(shaped).toEqual({})
  })

  it('round-trips the service field names through toJsonShape', () => {
    for (const name of ['orgName', 'refreshToken', 'currentPassword', 'expiresAt', 'isPlatformAdmin']) expect(toCamelCase(toSnakeCase(name))).toBe(name)
    expect(toCamelShape(toJsonShape({orgName: 'x', list: [{tokenTypeHint: 'y'}]}))).toEqual({orgName: 'x', list: [{tokenTypeHint: 'y'}]})
  })
})

describe('toCamelShape on wide input', () => {
  it('converts an object with 300,000 keys', () => {
    const wide = Object.fromEntries(Array.from({length: 300_000}, (_, index) => [`key_${index}`, index]))
    const shaped = toCamelShape(wide) as Record<string, number>
    expect(shaped.key299999).toBe(299_999)
    expect(Object.keys(shaped)).toHaveLength(300_000)
  })
})

describe('toJsonShape', () => {
  it('converts camelCase keys to snake_case deeply, leaving values and Dates alone', () => {
    const when = new Date('2026-01-01T00:00:00.000Z')
    expect(toJsonShape({orgId: 'a', nextCursor: null, items: [{createdAt: when, metadata: {already_snake: 1}}]})).toEqual({org_id: 'a', next_cursor: null, items: [{created_at: when, metadata: {already_snake: 1}}]})
  })

  it('keeps a __proto__ key of stored JSON a plain key, and the result an ordinary object', () => {
    const shaped = toJsonShape({metadata: JSON.parse('{"__proto__": {"polluted": true}}')}) as {metadata: Record<string, unknown>}
    expect(Object.getPrototypeOf(shaped.metadata)).toBe(Object.prototype)
    expect(shaped.metadata.polluted).toBeUndefined()
    expect(Object.keys(shaped.metadata)).toEqual(['__proto__'])
    expect(JSON.stringify(shaped)).toBe('{"metadata":{"__proto__":{"polluted":true}}}')
  })
})
