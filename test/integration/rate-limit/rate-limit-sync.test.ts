import {afterAll, beforeAll, expect, it} from 'vitest'
import {createOrgRateLimits} from '../../../src/rate-limit/org-rate-limits.js'
import {createRateLimiter, type RateLimiter} from '../../../src/rate-limit/rate-limiter.js'
import {createRateLimitSync, type RateLimitSync} from '../../../src/rate-limit/rate-limit-sync.js'
import {createOrgFixtures} from '../../helpers/org-fixtures.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'

// Two daemons on one database, each with its own limiter and sync (as startDaemon wires them),
// the time moved by hand: the org's limit holds across them within the documented tolerance,
// (N − 1) × rpm/60 × the sync interval.

const RPM = 60
const SYNC_MS = 1000

describeEachDialect('rate limits shared by daemons on one database', (dialect) => {
  let t: TestCore
  const fixtures = createOrgFixtures(() => t)

  beforeAll(async () => {
    t = await createTestCore(dialect, {tierRpm: `free=${RPM},basic=unlimited,premium=unlimited,enterprise=unlimited`})
  })
  afterAll(async () => {
    await t?.close()
  })

  function daemon(name: string): {limiter: RateLimiter; sync: RateLimitSync; admitted: () => number; send: (orgId: string, count: number) => Promise<void>} {
    const limiter = createRateLimiter({clock: t.clock, orgLimits: createOrgRateLimits({db: t.core.database.db, tiers: t.core.tiers, clock: t.clock}), authRpm: 0, publicRpm: 0})
    const sync = createRateLimitSync({db: t.core.database.db, limiter, clock: t.clock, daemonId: `${name}-${dialect}`})
    let admitted = 0
    return {
      limiter,
      sync,
      admitted: () => admitted,
      async send(orgId, count) {
        for (let index = 0; index < count; index += 1) {
          // The org's limit is read again every 10 s (of the test clock).
          const decision = await limiter.takeForOrg(orgId)
          if (decision === null) throw new Error('the org should have a limit')
          if (decision.isAllowed) admitted += 1
        }
      },
    }
  }

  /** Both daemons have started (each synced once, A again after B joined), and read the org's limit. */
  async function twoDaemons(orgId: string) {
    const a = daemon(`a-${orgId}`)
    const b = daemon(`b-${orgId}`)
    await a.sync.syncOnce()
    await b.sync.syncOnce()
    await a.sync.syncOnce()
    await a.limiter.chargeOrg(orgId, 0)
    await b.limiter.chargeOrg(orgId, 0)
    return {a, b}
  }

  it('a burst at both daemons at once gets no more than the bucket through them together', async () => {
    const {org} = await fixtures.seedOrg(`burst-${dialect}`, {owner: 'owner'})
    const {a, b} = await twoDaemons(org.id)
    await a.send(org.id, 100)
    await b.send(org.id, 100)
    expect(a.admitted() + b.admitted()).toBeLessThanOrEqual(RPM)
    expect(a.admitted()).toBe(RPM / 2)
    // After a sync each has been charged the other's use: the bucket is empty for both.
    await a.sync.syncOnce()
    await b.sync.syncOnce()
    t.clock.advance(SYNC_MS)
    await a.sync.syncOnce()
    await a.send(org.id, 10)
    await b.send(org.id, 10)
    expect(a.admitted() + b.admitted()).toBeLessThanOrEqual(RPM + (RPM / 60) * (SYNC_MS / 1000) + 1)
  })

  it.each([
    ['at the same moment', 0],
    ['half an interval apart', SYNC_MS / 2],
  ])('under sustained load on both, syncing %s, the combined count stays within (N − 1) × rpm/60 × sync of one bucket', async (_label, offsetMs) => {
    const {org} = await fixtures.seedOrg(`steady-${offsetMs}-${dialect}`, {owner: 'owner'})
    const {a, b} = await twoDaemons(org.id)
    const tolerance = (2 - 1) * (RPM / 60) * (SYNC_MS / 1000)
    let worstOvershoot = Number.NEGATIVE_INFINITY
    // Three minutes of 10 requests a second at each daemon (1200 a minute against a limit of 60).
    for (let step = 1; step <= 1800; step += 1) {
      await a.send(org.id, 1)
      await b.send(org.id, 1)
      t.clock.advance(100)
      if (step % (SYNC_MS / 100) === 0) await a.sync.syncOnce()
      if ((step - offsetMs / 100) % (SYNC_MS / 100) === 0) await b.sync.syncOnce()
      // What one exact bucket would have admitted so far: a full bucket, then the refill.
      const exact = RPM + (RPM * step * 100) / 60_000
      worstOvershoot = Math.max(worstOvershoot, a.admitted() + b.admitted() - exact)
    }
    expect(worstOvershoot).toBeLessThanOrEqual(tolerance + 1)
    // And the limit is not starved: over three minutes the org got close to what it may.
    expect(a.admitted() + b.admitted()).toBeGreaterThanOrEqual(RPM + 3 * RPM - 2 * (RPM / 60) * (SYNC_MS / 1000) - 2)
  })

  it('an org that is gone (purged, or an id no org has) is never unlimited: its callers pay from their IP’s public bucket', async () => {
    const {org} = await fixtures.seedOrg(`gone-${dialect}`, {owner: 'owner'})
    const orgLimits = createOrgRateLimits({db: t.core.database.db, tiers: t.core.tiers, clock: t.clock})
    expect(await orgLimits.rpmOf(org.id)).toBe(RPM)
    await t.core.orgs.deleteOrg(OPERATOR, {org: org.slug})
    await t.core.orgs.purgeOrg(OPERATOR, {org: org.slug})
    t.clock.advance(10_000)
    expect(await orgLimits.rpmOf(org.id)).toBe('missing')
    expect(await orgLimits.rpmOf('no-such-org')).toBe('missing')
    const limiter = createRateLimiter({clock: t.clock, orgLimits, authRpm: 0, publicRpm: 2})
    const answers = [await limiter.takeForOrg(org.id, '192.0.2.7'), await limiter.takeForOrg(org.id, '192.0.2.7'), await limiter.takeForOrg('no-such-org', '192.0.2.7')]
    expect(answers.map((answer) => answer && {isAllowed: answer.isAllowed, limit: answer.limit})).toEqual([
      {isAllowed: true, limit: 2},
      {isAllowed: true, limit: 2},
      {isAllowed: false, limit: 2},
    ])
  })

  it('drops usage rows older than a few minutes', async () => {
    const {org} = await fixtures.seedOrg(`purge-${dialect}`, {owner: 'owner'})
    const {a} = await twoDaemons(org.id)
    await a.send(org.id, 1)
    await a.sync.syncOnce()
    const rowsOf = () => t.core.database.db.selectFrom('rate_limit_usage').select('daemon_id').where('org_id', '=', org.id).execute()
    expect(await rowsOf()).toHaveLength(1)
    t.clock.advance(10 * 60_000)
    await a.sync.syncOnce()
    expect(await rowsOf()).toHaveLength(0)
  })
})
