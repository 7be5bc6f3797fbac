import {afterAll, beforeAll, expect, it} from 'vitest'
import {createLogger} from '../../daemon/logger.js'
import type {RunningServer} from '../../daemon/server.js'
import {startDaemon} from '../../daemon/start-daemon.js'
import {createCore} from '../../src/core.js'
import {waitUntil} from '../helpers/daemon-process.js'
import {FAST_PASSWORD_HASHER, OPERATOR, testConfig} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// Two daemons (as startDaemon runs them: the sync loop every rate_limit_sync_ms) on one
// database, one clock that stands still (no refill): an org's budget is held by both together.
// Each step waits until the daemon that served it has shared its count, then for a few sync
// rounds, so the other has read it; the tolerance asserted is the README's.

const RPM = 6
const SYNC_MS = 100
const SETTINGS = {tierRpm: `free=${RPM},basic=unlimited,premium=unlimited,enterprise=unlimited`, rateLimitSyncMs: SYNC_MS}
const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds))

describeEachDialect('rate limits held by two daemons on one database', (dialect) => {
  let first: TestDaemon
  let second: RunningServer

  beforeAll(async () => {
    first = await startTestDaemon(dialect, {settings: SETTINGS})
    const config = testConfig(first.testCore.database.url, {host: '127.0.0.1', port: 0, ...SETTINGS})
    const core = await createCore({config, cwd: process.cwd(), clock: first.testCore.clock, passwords: FAST_PASSWORD_HASHER})
    second = await startDaemon(core, config, {logger: createLogger({level: 'silent'}), cleanupJobs: false, mailDelivery: false, webhookDelivery: false, checkResponses: true} as Parameters<typeof startDaemon>[2])
  })
  afterAll(async () => {
    await second?.close()
    await first?.close()
  })

  it('an org’s requests through either daemon draw from one budget: together they admit no more than the limit', async () => {
    const {core} = first.testCore
    const db = core.database.db
    const email = `two-daemons-${dialect}@example.com`
    await core.users.createUser(OPERATOR, {email})
    const {org} = await core.orgs.createOrg(OPERATOR, {name: 'Two daemons', slug: `two-daemons-${dialect}`, owner: email})
    const key = (await core.apiKeys.createApiKey(OPERATOR, {org: org.slug, name: 'reader', role: 'owner'})).secret
    // Both daemons are present for each other (a presence row each) and have read that.
    await waitUntil(async () => (await db.selectFrom('rate_limit_usage').select('daemon_id').distinct().where('org_id', '=', '').execute()).length === 2, 10_000)
    await pause(5 * SYNC_MS)

    const admitted = {first: 0, second: 0}
    const reported = async () => Number((await db.selectFrom('rate_limit_usage').select((eb) => eb.fn.sum<number>('used').as('used')).where('org_id', '=', org.id).executeTakeFirst())?.used ?? 0)
    for (let round = 0; round < 4; round += 1) {
      for (const [name, url] of [['first', first.url], ['second', second.url]] as const) {
        for (let index = 0; index < 3; index += 1) {
          const response = await request(`${url}/v1/orgs/${org.slug}/members`, {headers: {authorization: `Bearer ${key}`}})
          expect([200, 429]).toContain(response.status)
          if (response.status === 200) admitted[name] += 1
        }
        const total = admitted.first + admitted.second
        await waitUntil(async () => (await reported()) === total, 10_000)
        await pause(5 * SYNC_MS)
      }
    }
    // Each daemon admitted while it had a share, and together not more than the bucket.
    expect(admitted.first).toBeGreaterThan(0)
    expect(admitted.second).toBeGreaterThan(0)
    expect(admitted.first + admitted.second).toBeLessThanOrEqual(RPM)
    // Spent: both refuse now.
    for (const url of [first.url, second.url]) expect((await request(`${url}/v1/orgs/${org.slug}/members`, {headers: {authorization: `Bearer ${key}`}})).status).toBe(429)
  })
})
