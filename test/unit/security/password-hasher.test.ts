import * as argon2 from 'argon2'
import {describe, expect, it} from 'vitest'
import {createPasswordHasher, OWASP_ARGON2ID_PARAMETERS} from '../../../src/security/password-hasher.js'

// Parameters are not under test in most cases: keep argon2 cheap.
const FAST = {memoryCost: 512, timeCost: 1, parallelism: 1}
const PASSWORD = 'correct horse battery staple'

describe('createPasswordHasher', () => {
  it('defaults to the OWASP argon2id parameters and encodes them in the hash', async () => {
    const hasher = createPasswordHasher()
    expect(hasher.parameters).toEqual({memoryCost: 19456, timeCost: 2, parallelism: 1})
    expect(OWASP_ARGON2ID_PARAMETERS).toEqual({memoryCost: 19456, timeCost: 2, parallelism: 1})
    const hash = await hasher.hashPassword(PASSWORD)
    expect(readPhcParameters(hash)).toEqual({id: 'argon2id', version: '19', m: '19456', t: '2', p: '1'})
    expect(await hasher.verifyPassword(hash, PASSWORD)).toEqual({ok: true, needsRehash: false})
  })

  it('uses the configured parameters', async () => {
    const hash = await createPasswordHasher(FAST).hashPassword(PASSWORD)
    expect(readPhcParameters(hash)).toEqual({id: 'argon2id', version: '19', m: '512', t: '1', p: '1'})
  })

  it('fills unspecified parameters from the OWASP defaults', () => {
    expect(createPasswordHasher({memoryCost: 1024}).parameters).toEqual({memoryCost: 1024, timeCost: 2, parallelism: 1})
  })

  it.each([
    [{timeCost: 0}],
    [{memoryCost: 4}],
    [{parallelism: 0}],
    [{timeCost: 1.5}],
    [{memoryCost: 16, parallelism: 4}],
  ])('refuses unusable parameters %j', (options) => {
    expect(() => createPasswordHasher(options)).toThrow(RangeError)
  })
})

describe('hashPassword / verifyPassword', () => {
  const hasher = createPasswordHasher(FAST)

  it('salts every hash', async () => {
    const first = await hasher.hashPassword(PASSWORD)
    const second = await hasher.hashPassword(PASSWORD)
    expect(first).not.toBe(second)
    expect(first).not.toContain(PASSWORD)
  })

  it('accepts the right password and refuses a wrong one', async () => {
    const hash = await hasher.hashPassword(PASSWORD)
    expect(await hasher.verifyPassword(hash, PASSWORD)).toEqual({ok: true, needsRehash: false})
    expect(await hasher.verifyPassword(hash, `${PASSWORD} `)).toEqual({ok: false, needsRehash: false})
    expect(await hasher.verifyPassword(hash, '')).toEqual({ok: false, needsRehash: false})
  })

  it('treats canonically equivalent spellings as the same password', async () => {
    const hash = await hasher.hashPassword('caf\u00e9-au-lait')
    expect((await hasher.verifyPassword(hash, 'cafe\u0301-au-lait')).ok).toBe(true)
  })

  it('runs off the event loop', async () => {
    let ticks = 0
    const timer = setInterval(() => ticks++, 1)
    try {
      const slow = createPasswordHasher({memoryCost: 19456, timeCost: 4, parallelism: 1})
      await slow.hashPassword(PASSWORD)
    } finally {
      clearInterval(timer)
    }
    expect(ticks).toBeGreaterThan(0)
  })

  it.each<[string, string | null]>([
    ['no password at all', null],
    ['empty', ''],
    ['a "no password" marker', '!'],
    ['a bcrypt hash', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'],
  ])('refuses any password against a stored value that is not argon2: %s', async (_label, stored) => {
    expect(await hasher.verifyPassword(stored, PASSWORD)).toEqual({ok: false, needsRehash: false})
    expect(await hasher.verifyPassword(stored, '')).toEqual({ok: false, needsRehash: false})
  })

  it('rejects a stored argon2 hash that is corrupt rather than calling it a wrong password', async () => {
    await expect(hasher.verifyPassword('$argon2id$v=19$m=512,t=1,p=1$not*base64$', PASSWORD)).rejects.toThrow()
  })

  it('refuses to hash a password over the maximum length, and never matches one', async () => {
    const tooLong = 'a'.repeat(1025)
    await expect(hasher.hashPassword(tooLong)).rejects.toThrow(RangeError)
    const hashOfMaximum = await hasher.hashPassword('a'.repeat(1024))
    expect(await hasher.verifyPassword(hashOfMaximum, 'a'.repeat(1024))).toEqual({ok: true, needsRehash: false})
    expect(await hasher.verifyPassword(hashOfMaximum, tooLong)).toEqual({ok: false, needsRehash: false})
  })
})

describe('rehash detection', () => {
  const old = createPasswordHasher(FAST)

  it.each([
    ['memoryCost', {...FAST, memoryCost: 1024}],
    ['timeCost', {...FAST, timeCost: 2}],
    ['parallelism', {...FAST, memoryCost: 512, parallelism: 2}],
  ])('asks for a rehash when %s changes', async (_parameter, current) => {
    const hash = await old.hashPassword(PASSWORD)
    const upgraded = createPasswordHasher(current)
    expect(await upgraded.verifyPassword(hash, PASSWORD)).toEqual({ok: true, needsRehash: true})
    // The new hash is current: no second rehash.
    const rehashed = await upgraded.hashPassword(PASSWORD)
    expect(await upgraded.verifyPassword(rehashed, PASSWORD)).toEqual({ok: true, needsRehash: false})
  })

  it('never asks for a rehash after a wrong password', async () => {
    const hash = await old.hashPassword(PASSWORD)
    const upgraded = createPasswordHasher({...FAST, memoryCost: 1024})
    expect(await upgraded.verifyPassword(hash, 'wrong password')).toEqual({ok: false, needsRehash: false})
  })

  it('asks for a rehash of another argon2 variant with the same parameters', async () => {
    const argon2iHash = await argon2.hash(PASSWORD, {type: argon2.argon2i, ...FAST})
    expect(argon2iHash.startsWith('$argon2i$')).toBe(true)
    expect(await old.verifyPassword(argon2iHash, PASSWORD)).toEqual({ok: true, needsRehash: true})
  })
})

describe('spendDummyVerification', () => {
  it('always reports failure, whatever the password', async () => {
    const hasher = createPasswordHasher(FAST)
    expect(await hasher.spendDummyVerification(PASSWORD)).toEqual({ok: false, needsRehash: false})
    expect(await hasher.spendDummyVerification('')).toEqual({ok: false, needsRehash: false})
    expect(await hasher.spendDummyVerification('a'.repeat(5000))).toEqual({ok: false, needsRehash: false})
  })

  it('costs about as much as verifying a wrong password', async () => {
    // Big enough that one verification takes milliseconds, so a shortcut (returning at once)
    // would be orders of magnitude faster.
    const hasher = createPasswordHasher({memoryCost: 8192, timeCost: 2, parallelism: 1})
    const stored = await hasher.hashPassword(PASSWORD)
    await hasher.spendDummyVerification('warm up: computes the dummy hash')

    const wrongPassword = await medianMilliseconds(() => hasher.verifyPassword(stored, 'wrong password'))
    const unknownAccount = await medianMilliseconds(() => hasher.spendDummyVerification('wrong password'))
    const accountWithoutPassword = await medianMilliseconds(() => hasher.verifyPassword(null, 'wrong password'))

    expect(wrongPassword).toBeGreaterThan(1)
    expect(unknownAccount).toBeGreaterThan(wrongPassword * 0.5)
    expect(accountWithoutPassword).toBeGreaterThan(wrongPassword * 0.5)
  })
})

async function medianMilliseconds(run: () => Promise<unknown>, samples = 7): Promise<number> {
  const durations: number[] = []
  for (let sample = 0; sample < samples; sample++) {
    const started = performance.now()
    await run()
    durations.push(performance.now() - started)
  }
  durations.sort((a, b) => a - b)
  return durations[Math.floor(samples / 2)] ?? Number.NaN
}

/** Reads `$id$v=..$m=..,t=..,p=..$salt$hash` without assuming the order of the parameters. */
function readPhcParameters(hash: string): Record<string, string> {
  const match = /^\$([a-z0-9]+)\$v=(\d+)\$([a-z]=\d+(?:,[a-z]=\d+)*)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(hash)
  if (match === null) throw new Error(`not a PHC argon2 string: ${hash}`)
  const [, id = '', version = '', parameterList = ''] = match
  return {id, version, ...Object.fromEntries(parameterList.split(',').map((pair) => pair.split('=')))}
}
