import {afterEach, expect, it} from 'vitest'
import {waitUntil} from '../helpers/daemon-process.js'
import {OPERATOR} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {startWebhookReceiver, type WebhookReceiver} from '../helpers/webhook-receiver.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// Over HTTP, with the daemon's worker running: the endpoint limit's answer (F3), an API key with
// webhooks.manage alone (F5), and deleting an endpoint while the worker's message to it is held
// by the receiver (F8).

describeEachDialect('webhook guards over HTTP', (dialect) => {
  let daemon: TestDaemon | undefined
  let receiver: WebhookReceiver | undefined
  afterEach(async () => {
    receiver?.release()
    await daemon?.close()
    await receiver?.stop()
    daemon = receiver = undefined
  })

  const call = async (method: string, path: string, token: string, body?: unknown) =>
    request(`${daemon!.url}${path}`, {
      method,
      headers: {authorization: `Bearer ${token}`, ...(body === undefined ? {} : {'content-type': 'application/json'})},
      body: body === undefined ? undefined : JSON.stringify(body),
    })

  it('one endpoint over webhook_max_endpoints_per_org is 409 webhook.limit_reached; a key holding only webhooks.manage may not create one (403)', async () => {
    receiver = await startWebhookReceiver()
    daemon = await startTestDaemon(dialect, {settings: {webhookAllowPrivate: true, webhookMaxEndpointsPerOrg: 1}})
    const {core} = daemon.testCore
    await core.orgs.createOrg(OPERATOR, {name: 'Acme', slug: 'acme'})
    const {secret: everything} = await core.apiKeys.createApiKey(OPERATOR, {org: 'acme', name: 'all', permissions: ['webhooks.manage', 'audit.read']})
    const {secret: hooksOnly} = await core.apiKeys.createApiKey(OPERATOR, {org: 'acme', name: 'hooks', permissions: ['webhooks.manage']})
    const refused = await call('POST', '/v1/orgs/acme/webhooks', hooksOnly, {url: `${receiver.url}/in`, events: ['*']})
    expect({status: refused.status, code: refused.json.error.code}).toEqual({status: 403, code: 'permission.denied'})
    const first = await call('POST', '/v1/orgs/acme/webhooks', everything, {url: `${receiver.url}/in`, events: ['*']})
    expect(first.status, first.text).toBe(201)
    const second = await call('POST', '/v1/orgs/acme/webhooks', everything, {url: `${receiver.url}/other`, events: ['*']})
    expect({status: second.status, code: second.json.error.code}).toEqual({status: 409, code: 'webhook.limit_reached'})
    const patched = await call('PATCH', `/v1/orgs/acme/webhooks/${first.json.id}`, hooksOnly, {events: ['org.*']})
    expect({status: patched.status, code: patched.json.error.code}).toEqual({status: 403, code: 'permission.denied'})
    expect((await call('DELETE', `/v1/orgs/acme/webhooks/${first.json.id}`, hooksOnly)).status).toBe(204)
  })

  it('deleting an endpoint while the worker’s message to it is held: 204, the worker records nothing and logs no failure, no rows left', async () => {
    receiver = await startWebhookReceiver()
    daemon = await startTestDaemon(dialect, {settings: {webhookAllowPrivate: true, webhookPollMs: 50, webhookTimeoutMs: 10_000}, webhookDelivery: true})
    const {core} = daemon.testCore
    await core.orgs.createOrg(OPERATOR, {name: 'Acme', slug: 'acme'})
    const {secret: key} = await core.apiKeys.createApiKey(OPERATOR, {org: 'acme', name: 'all', permissions: ['webhooks.manage', 'audit.read']})
    const {webhook} = await core.webhooks.createWebhook(OPERATOR, {org: 'acme', url: `${receiver.url}/in`, events: ['org.updated']})
    receiver.hold()
    await core.orgs.updateOrg(OPERATOR, {org: 'acme', name: 'Acme 2'})
    await waitUntil(async () => receiver!.held() === 1, 5_000)
    const deleted = await call('DELETE', `/v1/orgs/acme/webhooks/${webhook.id}`, key)
    expect(deleted.status, deleted.text).toBe(204)
    receiver.release()
    // The worker finished the send (the receiver answered) and its bookkeeping found nothing to record.
    await waitUntil(async () => daemon!.logs().some((line) => line.msg === 'webhook delivered'), 5_000)
    const {db} = core.database
    expect(await db.selectFrom('webhook_endpoint').select('id').execute()).toEqual([])
    expect(await db.selectFrom('webhook_delivery').select('id').execute()).toEqual([])
    expect(await db.selectFrom('webhook_attempt').select('id').execute()).toEqual([])
    const failures = daemon.logs().filter((line) => line.msg.startsWith('webhook delivery') || ['error', 'fatal', 'warn', 40, 50, 60].includes(line.level as string))
    expect(failures).toEqual([])
  })
})
