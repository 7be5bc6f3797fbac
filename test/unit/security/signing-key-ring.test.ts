import {describe, expect, it} from 'vitest'
import {createFixedClock} from '../../../src/security/clock.js'
import {createSigningKeyRing} from '../../../src/security/signing-key-ring.js'
import {generateSigningKey, type StoredSigningKey} from '../../../src/security/signing-keys.js'

const clock = createFixedClock(new Date('2030-01-01T00:00:00.000Z'))

async function keyCreatedAt(iso: string, retiredAt: string | null = null): Promise<StoredSigningKey> {
  clock.set(new Date(iso))
  const key = await generateSigningKey(clock)
  return {...key, retiredAt: retiredAt === null ? null : new Date(retiredAt)}
}

describe('createSigningKeyRing', () => {
  it('signs with the newest key that is not retired', async () => {
    const oldest = await keyCreatedAt('2030-01-01T00:00:00Z')
    const middle = await keyCreatedAt('2030-02-01T00:00:00Z')
    const newestButRetired = await keyCreatedAt('2030-03-01T00:00:00Z', '2030-03-02T00:00:00Z')
    const ring = createSigningKeyRing([oldest, newestButRetired, middle])
    expect(ring.getSigningKey().kid).toBe(middle.kid)
  })

  it('refuses to sign when every key is retired or there are none', async () => {
    const retired = await keyCreatedAt('2030-01-01T00:00:00Z', '2030-01-02T00:00:00Z')
    expect(() => createSigningKeyRing([retired]).getSigningKey()).toThrow()
    expect(() => createSigningKeyRing([]).getSigningKey()).toThrow()
  })

  it('verifies with any key it holds, retired ones included, and nothing else', async () => {
    const active = await keyCreatedAt('2030-02-01T00:00:00Z')
    const retired = await keyCreatedAt('2030-01-01T00:00:00Z', '2030-02-01T00:00:00Z')
    const stranger = await keyCreatedAt('2030-01-15T00:00:00Z')
    const ring = createSigningKeyRing([active, retired])
    expect(ring.findVerificationKey(active.kid)).toBe(active)
    expect(ring.findVerificationKey(retired.kid)).toBe(retired)
    expect(ring.findVerificationKey(stranger.kid)).toBeNull()
    expect(ring.findVerificationKey('')).toBeNull()
  })

  it('swaps its keys on replaceKeys', async () => {
    const first = await keyCreatedAt('2030-01-01T00:00:00Z')
    const second = await keyCreatedAt('2030-02-01T00:00:00Z')
    const ring = createSigningKeyRing([first])
    ring.replaceKeys([second])
    expect(ring.getSigningKey().kid).toBe(second.kid)
    expect(ring.findVerificationKey(first.kid)).toBeNull()
    expect(ring.listKeys()).toEqual([second])
  })

  it('lists keys newest first', async () => {
    const a = await keyCreatedAt('2030-01-01T00:00:00Z')
    const b = await keyCreatedAt('2030-03-01T00:00:00Z')
    const c = await keyCreatedAt('2030-02-01T00:00:00Z')
    expect(createSigningKeyRing([a, b, c]).listKeys().map((key) => key.kid)).toEqual([b.kid, c.kid, a.kid])
  })

  it('refuses two keys with one kid, keeping its previous keys', async () => {
    const key = await keyCreatedAt('2030-01-01T00:00:00Z')
    expect(() => createSigningKeyRing([key, {...key}])).toThrow()
    const ring = createSigningKeyRing([key])
    const other = await keyCreatedAt('2030-02-01T00:00:00Z')
    expect(() => ring.replaceKeys([other, {...other}])).toThrow()
    expect(ring.getSigningKey().kid).toBe(key.kid)
  })
})
