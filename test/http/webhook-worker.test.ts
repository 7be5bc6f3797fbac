import {afterEach, expect, it} from 'vitest'
import {parseDatabaseUrl} from '../../src/db/database-url.js'
import {openDatabase} from '../../src/db/open-database.js'
import {waitUntil} from '../helpers/daemon-process.js'
import {OPERATOR} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {startWebhookReceiver, verifyWithStandardWebhooks, type WebhookReceiver} from '../helpers/webhook-receiver.js'
import {startTestDaemon, type TestDaemon} from './http-harness.js'

describeEachDialect('the daemon delivers webhooks in the background', (dialect) => {
  let daemon: TestDaemon | undefined
  let receiver: WebhookReceiver | undefined
  afterEach(async () => {
    await daemon?.close()
    await receiver?.stop()
    daemon = receiver = undefined
  })

  it('receiver down: the worker logs the failed attempts; back up: each event delivered once, logs without secrets or payloads', async () => {
    receiver = await startWebhookReceiver()
    daemon = await startTestDaemon(dialect, {settings: {webhookAllowPrivate: true, webhookPollMs: 50, webhookRetryBaseSeconds: 10}, webhookDelivery: true})
    const {core, clock} = daemon.testCore
    await core.orgs.createOrg(OPERATOR, {name: 'Acme', slug: 'acme'})
    const {secret} = await core.webhooks.createWebhook(OPERATOR, {org: 'acme', url: `${receiver.url}/in?token=path-secret`, events: ['org.updated']})
    await receiver.down()
    for (const name of ['One', 'Two', 'Three']) await core.orgs.updateOrg(OPERATOR, {org: 'acme', name})
    await waitUntil(async () => daemon!.logs().filter((line) => line.msg === 'webhook delivery failed; will retry').length >= 3, 5_000)
    // The fixed clock stands still: nothing is due again, nothing more is tried.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(daemon.logs().filter((line) => line.msg === 'webhook delivery failed; will retry')).toHaveLength(3)

    await receiver.up()
    clock.advance(12_000)
    await waitUntil(async () => receiver!.messages.length >= 3, 5_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(receiver.messages).toHaveLength(3)
    for (const count of receiver.countByMessageId().values()) expect(count).toBe(1)
    for (const message of receiver.messages) expect(() => verifyWithStandardWebhooks(secret, message, clock.now())).not.toThrow()
    expect(daemon.logs().filter((line) => line.msg === 'webhook delivered')).toHaveLength(3)
    const logs = daemon.rawLogs()
    expect(logs).not.toContain(secret.slice(6))
    expect(logs).not.toContain('path-secret')
    expect(logs).not.toContain('Three')
  })

  it('shutdown claims nothing more and waits for the send in flight to finish its bookkeeping', async () => {
    receiver = await startWebhookReceiver()
    daemon = await startTestDaemon(dialect, {settings: {webhookAllowPrivate: true, webhookPollMs: 50, webhookTimeoutMs: 1_000}, webhookDelivery: true})
    const {core} = daemon.testCore
    await core.orgs.createOrg(OPERATOR, {name: 'Acme', slug: 'acme'})
    await core.webhooks.createWebhook(OPERATOR, {org: 'acme', url: `${receiver.url}/in`, events: ['org.updated']})
    receiver.hold()
    for (const name of ['One', 'Two', 'Three']) await core.orgs.updateOrg(OPERATOR, {org: 'acme', name})
    await waitUntil(async () => receiver!.held() === 1, 5_000)
    await daemon.running.close()
    expect(receiver.requests).toHaveLength(1)
    const opened = await openDatabase(parseDatabaseUrl(daemon.testCore.database.url, process.cwd()))
    try {
      const rows = await opened.db.selectFrom('webhook_delivery').selectAll().orderBy('created_at').orderBy('id').execute()
      // The held one timed out and was recorded; the others were never claimed.
      expect(rows.map((row) => [row.attempts, row.claimed_by])).toEqual([[1, null], [0, null], [0, null]])
      expect(rows[0]!.last_error).toMatch(/no answer within 1000 ms/)
    } finally {
      await opened.close()
    }
    receiver.release()
  })
})
