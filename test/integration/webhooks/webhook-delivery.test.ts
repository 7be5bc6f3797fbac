import {afterEach, beforeEach, expect, it} from 'vitest'
import {createCore, type Core} from '../../../src/core.js'
import {inTransaction} from '../../../src/db/transaction.js'
import type {HostResolver} from '../../../src/webhooks/ssrf-guard.js'
import {waitUntil} from '../../helpers/daemon-process.js'
import {createTestCore, FAST_PASSWORD_HASHER, OPERATOR, testConfig, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {startWebhookReceiver, verifyWithStandardWebhooks, type WebhookReceiver} from '../../helpers/webhook-receiver.js'

const BASE_SECONDS = 10
const THRESHOLD = 3
const COOLDOWN_SECONDS = 60

describeEachDialect('webhook deliveries', (dialect) => {
  let receiver: WebhookReceiver
  let t: TestCore
  let core: Core
  let extraCores: Core[] = []
  let counter = 0

  beforeEach(async () => {
    receiver = await startWebhookReceiver()
    t = await createTestCore(dialect, {
      webhookAllowPrivate: true,
      webhookRetryBaseSeconds: BASE_SECONDS,
      webhookBreakerThreshold: THRESHOLD,
      webhookBreakerCooldownSeconds: COOLDOWN_SECONDS,
      webhookTimeoutMs: 2_000,
    })
    core = t.core
  })
  afterEach(async () => {
    for (const extra of extraCores) await extra.close()
    extraCores = []
    await t.close()
    await receiver.stop()
  })

  async function newOrg(): Promise<string> {
    const slug = `hooks-${++counter}`
    await core.orgs.createOrg(OPERATOR, {name: `Hooks ${counter}`, slug})
    return slug
  }
  /** Makes `count` org.updated events in the org. */
  async function touchOrg(slug: string, count = 1): Promise<void> {
    for (let index = 0; index < count; index++) await core.orgs.updateOrg(OPERATOR, {org: slug, name: `Renamed ${++counter}`})
  }
  const deliveries = () => core.database.db.selectFrom('webhook_delivery').selectAll().orderBy('created_at').orderBy('id').execute()
  // Tests of retries keep the breaker (threshold 3) from opening between rounds.
  const keepBreakerClosed = () => core.database.db.updateTable('webhook_endpoint').set({consecutive_failures: 0}).execute()
  const endpointRow = (id: string) => core.database.db.selectFrom('webhook_endpoint').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

  it('enqueues in the event’s transaction: the org’s subscribed endpoints, instance-wide ones for events of no org (and every org’s with include_all_orgs)', async () => {
    const acme = await newOrg()
    const other = await newOrg()
    const orgHook = await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/acme`, events: ['org.*']})
    await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/members`, events: ['member.added']})
    const instance = await core.webhooks.createWebhook(OPERATOR, {url: `${receiver.url}/instance`, events: ['user.*', 'org.updated']})
    const everything = await core.webhooks.createWebhook(OPERATOR, {url: `${receiver.url}/all`, events: ['*'], includeAllOrgs: true})
    await core.database.db.deleteFrom('webhook_delivery').execute()

    await touchOrg(acme)
    await touchOrg(other)
    await core.users.createUser(OPERATOR, {email: 'hooked@example.com'})
    const rows = await deliveries()
    const byEndpoint = (id: string) => rows.filter((row) => row.endpoint_id === id).map((row) => row.event_type)
    expect(byEndpoint(orgHook.webhook.id)).toEqual(['org.updated'])
    // Instance-wide without include_all_orgs: only the event of no org.
    expect(byEndpoint(instance.webhook.id)).toEqual(['user.created'])
    expect(byEndpoint(everything.webhook.id)).toEqual(['org.updated', 'org.updated', 'user.created'])
    expect(rows).toHaveLength(5)
    for (const row of rows) expect(row).toMatchObject({status: 'pending', attempts: 0, message_id: `msg_${row.id}`})

    // A change that rolls back leaves no delivery behind.
    const before = rows.length
    await expect(
      inTransaction(core.database.db, async (tx) => {
        const {id} = await tx.selectFrom('organization').select('id').where('slug', '=', acme).executeTakeFirstOrThrow()
        await core.audit.append(tx, OPERATOR, {action: 'org.updated', orgId: id})
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    expect(await deliveries()).toHaveLength(before)
  })

  it('sends {type, timestamp, data} with webhook-id, webhook-timestamp and a signature the official package verifies', async () => {
    const acme = await newOrg()
    const {webhook, secret} = await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/in`, events: ['org.updated']})
    await touchOrg(acme)
    expect(await core.webhookDelivery.deliverDue()).toMatchObject({succeeded: 1, retried: 0, failed: 0})
    expect(receiver.messages).toHaveLength(1)
    const [message] = receiver.messages
    const [row] = await deliveries()
    expect(message!.id).toBe(row!.message_id)
    expect(message!.contentType).toBe('application/json')
    expect(message!.timestamp).toBe(String(Math.floor(t.clock.now().getTime() / 1000)))
    const verified = verifyWithStandardWebhooks(secret, message!, t.clock.now()) as any
    const [event] = await core.audit.listEvents({action: 'org.updated'}, 1)
    expect(verified).toEqual({
      type: 'org.updated',
      timestamp: event!.createdAt,
      data: {
        id: event!.id,
        seq: event!.seq,
        action: 'org.updated',
        org_id: event!.orgId,
        actor: event!.actor,
        target: event!.target,
        metadata: event!.metadata,
        ip: null,
        user_agent: null,
        request_id: null,
        created_at: event!.createdAt,
      },
    })
    expect(message!.body).not.toContain('hash')
    expect(() => verifyWithStandardWebhooks(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, message!, t.clock.now())).toThrow()
    const detail = await core.webhooks.getDelivery(OPERATOR, {org: acme, deliveryId: row!.id})
    expect(detail).toMatchObject({status: 'succeeded', attempts: 1, lastStatusCode: 204, lastError: null, deliveredAt: t.clock.now().toISOString(), endpointId: webhook.id})
    expect(detail.attemptLog).toEqual([{attemptedAt: t.clock.now().toISOString(), durationMs: expect.any(Number), statusCode: 204, error: null, outcome: 'succeeded'}])
    // Nothing is sent twice.
    t.clock.advance(3_600_000)
    expect(await core.webhookDelivery.deliverDue()).toMatchObject({succeeded: 0, retried: 0, failed: 0})
    expect(receiver.requests).toHaveLength(1)
  })

  it('receiver down → retried with a jittered exponential backoff → up: each event delivered exactly once, every attempt logged', async () => {
    const acme = await newOrg()
    // Above the breaker threshold would open it; this test is about retries.
    await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/in`, events: ['org.updated']})
    await touchOrg(acme, 2)
    await receiver.down()
    const start = t.clock.now().getTime()
    expect(await core.webhookDelivery.deliverDue()).toMatchObject({succeeded: 0, retried: 2})
    for (const row of await deliveries()) {
      expect(row).toMatchObject({status: 'pending', attempts: 1, claimed_by: null, last_status_code: null})
      expect(row.last_error).toMatch(/ECONNREFUSED/)
      const wait = Date.parse(row.next_attempt_at) - start
      expect(wait).toBeGreaterThanOrEqual(BASE_SECONDS * 1000 * 0.8)
      expect(wait).toBeLessThanOrEqual(BASE_SECONDS * 1000 * 1.2)
    }
    await keepBreakerClosed()
    // Not due before the backoff.
    t.clock.advance(BASE_SECONDS * 1000 * 0.8 - 1)
    expect((await core.webhookDelivery.deliverDue()).outcomes).toHaveLength(0)
    await receiver.up()
    receiver.answerWith(503)
    t.clock.set(new Date(start + BASE_SECONDS * 1000 * 1.2))
    expect(await core.webhookDelivery.deliverDue()).toMatchObject({retried: 2})
    expect((await deliveries()).map((row) => row.last_status_code)).toEqual([503, 503])
    await keepBreakerClosed()
    receiver.answerWith(200)
    t.clock.advance(2 * BASE_SECONDS * 1000 * 1.2)
    expect(await core.webhookDelivery.deliverDue()).toMatchObject({succeeded: 2})
    t.clock.advance(86_400_000)
    expect((await core.webhookDelivery.deliverDue()).outcomes).toHaveLength(0)
    const counts = receiver.countByMessageId()
    const rows = await deliveries()
    expect(counts.size).toBe(2)
    for (const row of rows) {
      expect(counts.get(row.message_id)).toBe(1)
      expect(row).toMatchObject({status: 'succeeded', attempts: 3, last_status_code: 200})
      const detail = await core.webhooks.getDelivery(OPERATOR, {deliveryId: row.id})
      expect(detail.attemptLog.map((attempt) => [attempt.outcome, attempt.statusCode])).toEqual([['failed', null], ['failed', 503], ['succeeded', 200]])
    }
    // The same webhook-id on every attempt of one event.
    expect(new Set(receiver.requests.map((request) => request.id)).size).toBe(2)
  })

  it('a delivery failing for the whole retry window is parked as failed; replay sends it again with the same webhook-id (audited); 3xx is a failure, never followed', async () => {
    const acme = await newOrg()
    const {webhook} = await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/in`, events: ['org.updated']})
    await touchOrg(acme)
    receiver.answerWith(302)
    let rounds = 0
    for (;;) {
      const report = await core.webhookDelivery.deliverDue()
      if (report.failed === 1) break
      await keepBreakerClosed()
      t.clock.advance(3_600_000 * 1.2)
      expect(++rounds).toBeLessThan(40)
    }
    const [row] = await deliveries()
    expect(row).toMatchObject({status: 'failed', last_status_code: 302})
    expect(row!.last_error).toContain('redirects are not followed')
    // One day after the first attempt (with the last wait's jitter).
    expect(Date.parse(t.clock.now().toISOString()) - Date.parse(row!.window_started_at!)).toBeGreaterThanOrEqual(86_400_000 - 3_600_000 * 1.2)
    expect(receiver.messages).toHaveLength(0)

    receiver.answerWith(204)
    await expect(core.webhooks.replayDelivery(OPERATOR, {org: acme, deliveryId: row!.id})).resolves.toMatchObject({status: 'pending', attempts: 0})
    await expect(core.webhooks.replayDelivery(OPERATOR, {org: acme, deliveryId: row!.id})).rejects.toMatchObject({code: 'webhook.delivery_pending'})
    expect(await core.webhookDelivery.deliverDue()).toMatchObject({succeeded: 1})
    expect(receiver.messages.map((message) => message.id)).toEqual([row!.message_id])
    const [replayed] = await core.audit.listEvents({action: 'webhook.replayed'}, 10)
    expect(replayed).toMatchObject({target: {type: 'webhook_delivery', id: row!.id}, metadata: {webhook_id: webhook.id, previous_status: 'failed'}})
  })

  it('the circuit breaker opens after N consecutive failures, sends nothing while open, half-opens to exactly one probe across two processes, reopens on failure and closes on success', async () => {
    const acme = await newOrg()
    const {webhook} = await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/in`, events: ['org.updated']})
    const second = await createCore({config: core.config, cwd: process.cwd(), clock: t.clock, passwords: FAST_PASSWORD_HASHER})
    extraCores.push(second)
    receiver.answerWith(500)
    await touchOrg(acme, 5)
    const first = await core.webhookDelivery.deliverDue()
    // Three failures open it; the other two are not even tried.
    expect(first).toMatchObject({retried: THRESHOLD})
    expect(receiver.requests).toHaveLength(THRESHOLD)
    expect(await endpointRow(webhook.id)).toMatchObject({breaker_state: 'open', consecutive_failures: THRESHOLD})
    const openedAt = t.clock.now().getTime()

    // While open: nothing, however often the workers look (the backoff has passed too).
    t.clock.advance(COOLDOWN_SECONDS * 1000 - 1)
    for (const delivery of [core.webhookDelivery, second.webhookDelivery]) expect((await delivery.deliverDue()).outcomes).toHaveLength(0)
    expect(receiver.requests).toHaveLength(THRESHOLD)

    // Cooled down: both processes poll at once, one probe goes.
    t.clock.set(new Date(openedAt + COOLDOWN_SECONDS * 1000))
    const [a, b] = await Promise.all([core.webhookDelivery.deliverDue(), second.webhookDelivery.deliverDue()])
    expect([...a.outcomes, ...b.outcomes].map((outcome) => outcome.isProbe)).toEqual([true])
    expect(receiver.requests).toHaveLength(THRESHOLD + 1)
    expect(await endpointRow(webhook.id)).toMatchObject({breaker_state: 'open', consecutive_failures: THRESHOLD + 1, next_probe_at: new Date(openedAt + 2 * COOLDOWN_SECONDS * 1000).toISOString()})

    // The next probe succeeds: closed, and the rest goes out.
    receiver.answerWith(204)
    t.clock.advance(COOLDOWN_SECONDS * 1000 + 3_600_000)
    const [c, d] = await Promise.all([core.webhookDelivery.deliverDue(), second.webhookDelivery.deliverDue()])
    expect([...c.outcomes, ...d.outcomes].filter((outcome) => outcome.isProbe)).toHaveLength(1)
    expect(await endpointRow(webhook.id)).toMatchObject({breaker_state: 'closed', consecutive_failures: 0, next_probe_at: null})
    await core.webhookDelivery.deliverDue()
    expect(receiver.messages).toHaveLength(5)
    expect(new Set(receiver.messages.map((message) => message.id)).size).toBe(5)
    expect((await core.webhooks.getWebhook(OPERATOR, {org: acme, id: webhook.id})).breaker).toEqual({state: 'closed', consecutiveFailures: 0, openedAt: null, nextProbeAt: null})
  })

  it('two delivery workers (two cores) on one database: each event delivered once', async () => {
    const acme = await newOrg()
    await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/in`, events: ['org.updated']})
    const second = await createCore({config: core.config, cwd: process.cwd(), clock: t.clock, passwords: FAST_PASSWORD_HASHER})
    extraCores.push(second)
    await touchOrg(acme, 30)
    for (let round = 0; round < 5; round++) await Promise.all([core.webhookDelivery.deliverDue({limit: 7}), second.webhookDelivery.deliverDue({limit: 7})])
    await Promise.all([core.webhookDelivery.deliverDue(), second.webhookDelivery.deliverDue()])
    expect(receiver.messages).toHaveLength(30)
    expect(receiver.requests).toHaveLength(30)
    for (const count of receiver.countByMessageId().values()) expect(count).toBe(1)
    expect((await deliveries()).every((row) => row.status === 'succeeded' && row.attempts === 1)).toBe(true)
  })

  it('a claim that expired (its process died mid-send) is sent again with the same webhook-id', async () => {
    const acme = await newOrg()
    await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/in`, events: ['org.updated']})
    await touchOrg(acme)
    const [row] = await deliveries()
    // Another process claimed it and vanished.
    await core.database.db.updateTable('webhook_delivery').set({claimed_by: 'dead-host:1:x', claimed_until: new Date(t.clock.now().getTime() + 10_000).toISOString()}).execute()
    expect((await core.webhookDelivery.deliverDue()).outcomes).toHaveLength(0)
    t.clock.advance(10_001)
    expect(await core.webhookDelivery.deliverDue()).toMatchObject({succeeded: 1})
    expect(receiver.messages.map((message) => message.id)).toEqual([row!.message_id])
  })

  it('rotation: while the old secret is valid both signatures verify; afterwards only the new one', async () => {
    const acme = await newOrg()
    const created = await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/in`, events: ['org.updated']})
    const rotated = await core.webhooks.rotateSecret(OPERATOR, {org: acme, id: created.webhook.id, overlapSeconds: 3_600})
    expect(rotated.secret).not.toBe(created.secret)
    expect(rotated.webhook.previousSecretExpiresAt).toBe(new Date(t.clock.now().getTime() + 3_600_000).toISOString())
    await touchOrg(acme)
    await core.webhookDelivery.deliverDue()
    const [during] = receiver.messages
    expect(during!.signature.split(' ')).toHaveLength(2)
    expect(() => verifyWithStandardWebhooks(rotated.secret, during!, t.clock.now())).not.toThrow()
    expect(() => verifyWithStandardWebhooks(created.secret, during!, t.clock.now())).not.toThrow()

    t.clock.advance(3_600_001)
    await touchOrg(acme)
    await core.webhookDelivery.deliverDue()
    const after = receiver.messages[1]!
    expect(after.signature.split(' ')).toHaveLength(1)
    expect(() => verifyWithStandardWebhooks(rotated.secret, after, t.clock.now())).not.toThrow()
    expect(() => verifyWithStandardWebhooks(created.secret, after, t.clock.now())).toThrow()
    const [event] = await core.audit.listEvents({action: 'webhook.secret_rotated'}, 1)
    expect(JSON.stringify(event)).not.toContain(rotated.secret.slice(6))
    // The secrets are sealed at rest.
    const stored = await endpointRow(created.webhook.id)
    expect(stored.secret_sealed).toMatch(/^enc:v1:/)
    expect(JSON.stringify(stored)).not.toContain(rotated.secret.slice(6))
  })

  it('two rotations at once: every secret handed out signs (a rotation that lost the race is refused, db.conflict)', async () => {
    const acme = await newOrg()
    const {webhook} = await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/in`, events: ['org.updated']})
    const second = await createCore({config: core.config, cwd: process.cwd(), clock: t.clock, passwords: FAST_PASSWORD_HASHER})
    extraCores.push(second)
    const results = await Promise.allSettled([core, second].map((each) => each.webhooks.rotateSecret(OPERATOR, {org: acme, id: webhook.id})))
    const secrets = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value.secret] : []))
    for (const result of results) if (result.status === 'rejected') expect(result.reason).toMatchObject({code: 'db.conflict'})
    expect(secrets.length).toBeGreaterThanOrEqual(1)
    await touchOrg(acme)
    await core.webhookDelivery.deliverDue()
    for (const secret of secrets) expect(() => verifyWithStandardWebhooks(secret, receiver.messages[0]!, t.clock.now())).not.toThrow()
  })

  it('webhook test sends webhook.test now; delivering writes no audit events (no loop), changes do', async () => {
    const acme = await newOrg()
    const {webhook, secret} = await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/in`, events: ['*']})
    const eventsBefore = await core.audit.latestSeq()
    const outcome = await core.webhooks.testWebhook(OPERATOR, {org: acme, id: webhook.id})
    expect(outcome).toMatchObject({status: 'succeeded', statusCode: 204, eventType: 'webhook.test'})
    expect(receiver.messages[0]!.payload).toMatchObject({type: 'webhook.test', data: {webhook_id: webhook.id}})
    expect(() => verifyWithStandardWebhooks(secret, receiver.messages[0]!, t.clock.now())).not.toThrow()
    // webhook.tested is an event like any other, delivered to the endpoint subscribed to '*'; sending it records nothing.
    expect(await core.audit.latestSeq()).toBe(eventsBefore + 1)
    await core.webhookDelivery.deliverDue()
    await core.webhookDelivery.deliverDue()
    expect(await core.audit.latestSeq()).toBe(eventsBefore + 1)
    // The endpoint subscribed to '*' also got its own webhook.created (enqueued when it was made).
    expect(receiver.messages.map((message) => message.payload.type)).toEqual(['webhook.test', 'webhook.created', 'webhook.tested'])
  })

  it('an endpoint deleted while a message to it is on its way: the send finishes, nothing is recorded, nothing breaks', async () => {
    const acme = await newOrg()
    const {webhook} = await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/in`, events: ['org.updated']})
    await touchOrg(acme)
    receiver.hold()
    const sending = core.webhookDelivery.deliverDue()
    await waitUntil(async () => receiver.held() === 1, 5_000)
    await core.webhooks.deleteWebhook(OPERATOR, {org: acme, id: webhook.id})
    receiver.release()
    expect(await sending).toMatchObject({succeeded: 1})
    expect(await deliveries()).toHaveLength(0)
    expect(await core.database.db.selectFrom('webhook_attempt').selectAll().execute()).toHaveLength(0)
  })

  it('deleting an endpoint takes its deliveries; purging the org takes its endpoints', async () => {
    const acme = await newOrg()
    const {webhook} = await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/in`, events: ['org.*']})
    await touchOrg(acme, 2)
    await core.webhookDelivery.deliverDue()
    await expect(core.webhooks.deleteWebhook(OPERATOR, {org: acme, id: webhook.id})).resolves.toEqual({id: webhook.id, deliveriesDeleted: 2})
    expect(await deliveries()).toHaveLength(0)
    expect(await core.database.db.selectFrom('webhook_attempt').selectAll().execute()).toHaveLength(0)
    await core.webhooks.createWebhook(OPERATOR, {org: acme, url: `${receiver.url}/in`, events: ['org.*']})
    await core.orgs.deleteOrg(OPERATOR, {org: acme})
    await core.orgs.purgeOrg(OPERATOR, {org: acme})
    expect(await core.database.db.selectFrom('webhook_endpoint').selectAll().execute()).toHaveLength(0)
  })
})

describeEachDialect('webhook SSRF guard in the core', (dialect) => {
  let t: TestCore | undefined
  let core: Core | undefined
  afterEach(async () => {
    await core?.close()
    await t?.close()
    t = core = undefined
  })

  it('refuses internal URLs at create and update, and a name that resolves to a private address at send time (DNS rebinding) — no connection is made', async () => {
    t = await createTestCore(dialect)
    await t.core.orgs.createOrg(OPERATOR, {name: 'Guarded', slug: 'guarded'})
    for (const url of ['http://127.0.0.1:9/x', 'http://[::1]/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest/meta-data', 'http://[::ffff:192.168.0.1]/x']) {
      await expect(t.core.webhooks.createWebhook(OPERATOR, {org: 'guarded', url, events: ['org.*']})).rejects.toMatchObject({code: 'webhook.url_refused'})
    }
    // A resolver that answers public first, then loopback: the address checked at send time wins.
    let lookups = 0
    const rebinding: HostResolver = async () => (++lookups === 1 ? [{address: '93.184.216.34', family: 4}] : [{address: '127.0.0.1', family: 4}])
    core = await createCore({config: testConfig(t.database.url), cwd: process.cwd(), clock: t.clock, passwords: FAST_PASSWORD_HASHER, webhookResolver: rebinding})
    const {webhook} = await core.webhooks.createWebhook(OPERATOR, {org: 'guarded', url: 'http://hooks.rebind.test/in', events: ['org.*']})
    await expect(core.webhooks.updateWebhook(OPERATOR, {org: 'guarded', id: webhook.id, url: 'http://hooks.rebind.test/other'})).rejects.toMatchObject({code: 'webhook.url_refused'})
    await core.orgs.updateOrg(OPERATOR, {org: 'guarded', name: 'Guarded 2'})
    const report = await core.webhookDelivery.deliverDue()
    expect(report.outcomes).toHaveLength(1)
    expect(report.outcomes[0]).toMatchObject({status: 'retry', statusCode: null})
    expect((report.outcomes[0] as {error: string}).error).toMatch(/^refused: /)
  })
})
