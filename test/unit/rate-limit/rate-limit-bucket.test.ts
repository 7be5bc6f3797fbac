import {describe, expect, it} from 'vitest'
import {createBucketStore} from '../../../src/rate-limit/bucket-store.js'
import {createRateLimiter} from '../../../src/rate-limit/rate-limiter.js'
import {chargeTokens, deficitAt, takeToken, type BucketState} from '../../../src/rate-limit/token-bucket.js'
import {createFixedClock} from '../../../src/security/clock.js'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')

/** Takes `count` tokens at `now`, returning how many were allowed and the last answer. */
function takeMany(count: number, limit: {perMinute: number}, now: number, start?: BucketState) {
  let state = start
  let allowed = 0
  let last
  for (let index = 0; index < count; index += 1) {
    last = takeToken(state, limit, now)
    state = last.state
    if (last.isAllowed) allowed += 1
  }
  return {allowed, last: last!, state: state!}
}

describe('token bucket', () => {
  it('admits a full minute of requests at once, then refuses with the seconds until one token is back', () => {
    const {allowed, last, state} = takeMany(61, {perMinute: 60}, T0)
    expect(allowed).toBe(60)
    expect(last).toMatchObject({isAllowed: false, remaining: 0, retryAfterSeconds: 1, resetSeconds: 60})
    expect(state.deficit).toBe(60)
  })

  it('refills evenly: rpm/60 tokens a second, never above the bucket', () => {
    const limit = {perMinute: 60}
    const {state} = takeMany(60, limit, T0)
    expect(takeToken(state, limit, T0 + 999).isAllowed).toBe(false)
    const afterOneSecond = takeToken(state, limit, T0 + 1000)
    expect(afterOneSecond).toMatchObject({isAllowed: true, remaining: 0})
    expect(takeMany(5, limit, T0 + 5000, state).allowed).toBe(5)
    // An hour idle refills one bucket, not sixty.
    expect(takeMany(100, limit, T0 + 3_600_000, state).allowed).toBe(60)
  })

  it('counts remaining and reset seconds for the headers', () => {
    const first = takeToken(undefined, {perMinute: 120}, T0)
    expect(first).toMatchObject({isAllowed: true, remaining: 119, resetSeconds: 1})
    const {last} = takeMany(60, {perMinute: 120}, T0, first.state)
    expect(last).toMatchObject({isAllowed: true, remaining: 59, resetSeconds: 31})
  })

  it('a limit of 0 admits nothing', () => {
    expect(takeToken(undefined, {perMinute: 0}, T0)).toMatchObject({isAllowed: false, retryAfterSeconds: 60})
  })

  it('a clock that goes back refills nothing', () => {
    const {state} = takeMany(60, {perMinute: 60}, T0)
    expect(takeToken(state, {perMinute: 60}, T0 - 30_000).isAllowed).toBe(false)
  })

  it('charges tokens spent elsewhere as debt, at most one extra minute of it', () => {
    const limit = {perMinute: 60}
    const charged = chargeTokens(undefined, limit, 90, T0)
    expect(deficitAt(charged, limit, T0)).toBe(90)
    // 30 s to pay back the debt beyond the bucket, one more second for a token.
    expect(takeToken(charged, limit, T0 + 30_000).isAllowed).toBe(false)
    expect(takeToken(charged, limit, T0 + 31_000).isAllowed).toBe(true)
    expect(deficitAt(chargeTokens(undefined, limit, 10_000, T0), limit, T0)).toBe(120)
  })
})

describe('bucket store', () => {
  it('forgets the least recently used bucket beyond its size, and drops full buckets on sweep', () => {
    const store = createBucketStore({maxBuckets: 2})
    const limit = {perMinute: 1}
    store.take('a', limit, T0)
    store.take('b', limit, T0)
    store.take('a', limit, T0)
    store.take('c', limit, T0)
    expect(store.size()).toBe(2)
    // 'b' was the least recently used: forgotten, so it has its token again; 'a' has not.
    expect(store.take('b', limit, T0).isAllowed).toBe(true)
    expect(store.take('c', limit, T0).isAllowed).toBe(false)
    expect(store.sweep(T0 + 59_000, () => limit)).toBe(2)
    expect(store.sweep(T0 + 60_000, () => limit)).toBe(0)
  })
})

describe('rate limiter', () => {
  function limiterWith(rpmByOrg: Record<string, number | null | 'missing'>, options: {authRpm?: number; publicRpm?: number} = {}) {
    const clock = createFixedClock(new Date(T0))
    const limiter = createRateLimiter({
      clock,
      orgLimits: {rpmOf: (orgId) => rpmByOrg[orgId] ?? null, lastKnownRpmOf: (orgId) => rpmByOrg[orgId] ?? null},
      authRpm: options.authRpm ?? 0,
      publicRpm: options.publicRpm ?? 0,
    })
    return {clock, limiter}
  }

  it('keeps one bucket per org; an unlimited org draws from none', () => {
    const {limiter} = limiterWith({a: 2, b: 2, free: null})
    expect([1, 2, 3].map(() => (limiter.takeForOrg('a') as {isAllowed: boolean}).isAllowed)).toEqual([true, true, false])
    expect((limiter.takeForOrg('b') as {isAllowed: boolean}).isAllowed).toBe(true)
    expect(limiter.takeForOrg('free')).toBeNull()
    expect(limiter.bucketCounts()).toEqual({org: 2, client: 0})
  })

  it('an org id no org has (purged) is never unlimited: the caller pays from its IP’s public bucket', () => {
    const {limiter} = limiterWith({gone: 'missing'}, {publicRpm: 2})
    expect([1, 2, 3].map(() => (limiter.takeForOrg('gone', '203.0.113.9') as {isAllowed: boolean; limit: number}).isAllowed)).toEqual([true, true, false])
    expect(limiter.takeForOrg('gone', '203.0.113.10')).toMatchObject({isAllowed: true, limit: 2})
    // The same bucket as the address's anonymous reads; no org bucket is made for the id.
    expect(limiter.takeForClient('public', '203.0.113.10')).toMatchObject({isAllowed: true, remaining: 0})
    expect(limiter.bucketCounts()).toEqual({org: 0, client: 2})
  })

  it('keeps per-IP buckets per group; 0 is no limit', () => {
    const {limiter} = limiterWith({}, {authRpm: 1, publicRpm: 0})
    expect(limiter.takeForClient('auth', '10.0.0.1')?.isAllowed).toBe(true)
    expect(limiter.takeForClient('auth', '10.0.0.1')?.isAllowed).toBe(false)
    expect(limiter.takeForClient('auth', '10.0.0.2')?.isAllowed).toBe(true)
    expect(limiter.takeForClient('public', '10.0.0.1')).toBeNull()
  })

  it('counts admitted requests per org and minute window until they are shared', () => {
    const {clock, limiter} = limiterWith({a: 100})
    limiter.takeForOrg('a')
    limiter.takeForOrg('a')
    clock.advance(60_000)
    limiter.takeForOrg('a')
    const unshared = limiter.unsharedUsage()
    expect(unshared).toEqual([
      {orgId: 'a', windowStart: T0, count: 2},
      {orgId: 'a', windowStart: T0 + 60_000, count: 1},
    ])
    limiter.takeForOrg('a')
    limiter.markShared(unshared)
    // The current window grew after it was read: still to share.
    expect(limiter.unsharedUsage()).toEqual([{orgId: 'a', windowStart: T0 + 60_000, count: 2}])
  })

  it('charges other daemons’ use to the org bucket, and sweeps idle buckets', async () => {
    const {clock, limiter} = limiterWith({a: 10})
    await limiter.chargeOrg('a', 9)
    expect((limiter.takeForOrg('a') as {isAllowed: boolean}).isAllowed).toBe(true)
    expect((limiter.takeForOrg('a') as {isAllowed: boolean}).isAllowed).toBe(false)
    clock.advance(60_000)
    limiter.sweep()
    expect(limiter.bucketCounts().org).toBe(0)
  })
})

describe('client keys of per-IP buckets', () => {
  it('keys IPv4 by address, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', async () => {
    const {clientKeyOf} = await import('../../../src/rate-limit/client-key.js')
    expect(clientKeyOf('203.0.113.7')).toBe('203.0.113.7')
    expect(clientKeyOf('::ffff:203.0.113.7')).toBe('203.0.113.7')
    expect(clientKeyOf('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(clientKeyOf('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64')
    expect(clientKeyOf('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(clientKeyOf('::1')).toBe('0:0:0:0::/64')
    expect(clientKeyOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(clientKeyOf('unknown')).toBe('unknown')
  })
})
