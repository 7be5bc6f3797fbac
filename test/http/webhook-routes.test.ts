import {afterEach, beforeEach, expect, it} from 'vitest'
import {describeEachDialect} from '../helpers/test-database.js'
import {OPERATOR} from '../helpers/test-core.js'
import {startWebhookReceiver, verifyWithStandardWebhooks, type WebhookReceiver} from '../helpers/webhook-receiver.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

const PASSWORD = 'correct horse battery staple'

describeEachDialect('webhooks over HTTP', (dialect) => {
  let daemon: TestDaemon
  let receiver: WebhookReceiver
  let counter = 0

  beforeEach(async () => {
    receiver = await startWebhookReceiver()
    daemon = await startTestDaemon(dialect, {settings: {webhookAllowPrivate: true}})
  })
  afterEach(async () => {
    await daemon.close()
    await receiver.stop()
  })

  const call = async (method: string, path: string, token: string, body?: unknown) =>
    request(`${daemon.url}${path}`, {
      method,
      headers: {authorization: `Bearer ${token}`, ...(body === undefined ? {} : {'content-type': 'application/json'})},
      body: body === undefined ? undefined : JSON.stringify(body),
    })

  /** An org with an owner and a member, each with a token bound to it. */
  async function seedOrg(label: string) {
    const {core} = daemon.testCore
    const slug = `${label}-${++counter}`
    const people: Record<string, string> = {}
    for (const role of ['owner', 'member']) {
      const email = `${slug}-${role}@example.com`
      await core.users.createUser(OPERATOR, {email, password: PASSWORD})
      if (role === 'owner') await core.orgs.createOrg(OPERATOR, {name: slug, slug, owner: email})
      else await core.members.addMember(OPERATOR, {org: slug, user: email, role})
      const login = await request(`${daemon.url}/v1/auth/login`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({email, password: PASSWORD, org: slug})})
      expect(login.status, login.text).toBe(200)
      people[role] = login.json.access_token as string
      daemon.testCore.clock.advance(1)
    }
    return {slug, owner: people.owner!, member: people.member!}
  }

  it('an owner creates, lists, changes, rotates, tests, reads the delivery log of, replays and deletes an endpoint', async () => {
    const acme = await seedOrg('acme')
    const base = `/v1/orgs/${acme.slug}/webhooks`
    const created = await call('POST', base, acme.owner, {url: `${receiver.url}/in`, events: ['member.*', 'org.updated'], description: 'CRM sync'})
    expect(created.status, created.text).toBe(201)
    expect(created.headers.get('cache-control')).toContain('no-store')
    expect(created.json).toMatchObject({url: `${receiver.url}/in`, events: ['member.*', 'org.updated'], description: 'CRM sync', disabled: false, include_all_orgs: false, breaker: {state: 'closed', consecutive_failures: 0}})
    expect(created.json.secret).toMatch(/^whsec_/)
    const id = created.json.id as string

    const listed = await call('GET', base, acme.owner)
    expect(listed.status).toBe(200)
    expect(listed.json.webhooks.map((hook: {id: string}) => hook.id)).toEqual([id])
    expect(JSON.stringify(listed.json)).not.toContain(created.json.secret.slice(6))

    const patched = await call('PATCH', `${base}/${id}`, acme.owner, {events: ['*']})
    expect(patched.status, patched.text).toBe(200)
    expect(patched.json.events).toEqual(['*'])

    const rotated = await call('POST', `${base}/${id}/rotate-secret?overlap_seconds=600`, acme.owner)
    expect(rotated.status, rotated.text).toBe(200)
    expect(rotated.json.secret).toMatch(/^whsec_/)
    expect(rotated.json.previous_secret_expires_at).toBe(new Date(daemon.testCore.clock.now().getTime() + 600_000).toISOString())

    const tested = await call('POST', `${base}/${id}/test`, acme.owner)
    expect(tested.status, tested.text).toBe(200)
    expect(tested.json).toMatchObject({status: 'succeeded', status_code: 204, event_type: 'webhook.test'})
    const [message] = receiver.messages
    expect(() => verifyWithStandardWebhooks(rotated.json.secret, message!, daemon.testCore.clock.now())).not.toThrow()
    expect(() => verifyWithStandardWebhooks(created.json.secret, message!, daemon.testCore.clock.now())).not.toThrow()

    await daemon.testCore.core.webhookDelivery.deliverDue()
    const log = await call('GET', `${base}/${id}/deliveries`, acme.owner)
    expect(log.status).toBe(200)
    expect(log.json.deliveries.map((delivery: {event_type: string; status: string}) => [delivery.event_type, delivery.status])).toEqual([
      ['webhook.tested', 'succeeded'],
      ['webhook.test', 'succeeded'],
      ['webhook.secret_rotated', 'succeeded'],
      ['webhook.updated', 'succeeded'],
    ])
    const deliveryId = log.json.deliveries[1].id as string
    const detail = await call('GET', `${base}/${id}/deliveries/${deliveryId}`, acme.owner)
    expect(detail.status).toBe(200)
    expect(detail.json.attempt_log).toEqual([{attempted_at: expect.any(String), duration_ms: expect.any(Number), status_code: 204, error: null, outcome: 'succeeded'}])

    const replayed = await call('POST', `${base}/${id}/deliveries/${deliveryId}/replay`, acme.owner)
    expect(replayed.status, replayed.text).toBe(200)
    expect(replayed.json).toMatchObject({id: deliveryId, status: 'pending', message_id: detail.json.message_id})
    expect((await call('POST', `${base}/${id}/deliveries/${deliveryId}/replay`, acme.owner)).json.error.code).toBe('webhook.delivery_pending')

    expect((await call('DELETE', `${base}/${id}`, acme.owner)).status).toBe(204)
    const gone = await call('GET', `${base}/${id}`, acme.owner)
    expect({status: gone.status, code: gone.json.error.code}).toEqual({status: 404, code: 'webhook.not_found'})
    const audited = (await daemon.testCore.core.audit.listEvents({action: 'webhook.*'}, 20)).map((event) => event.action)
    expect(audited).toEqual(['webhook.created', 'webhook.updated', 'webhook.secret_rotated', 'webhook.tested', 'webhook.replayed', 'webhook.deleted'])
  })

  it('another tenant’s endpoints and deliveries are 404; a member without webhooks.manage is refused; bad input is 422', async () => {
    const acme = await seedOrg('acme')
    const rival = await seedOrg('rival')
    const created = await call('POST', `/v1/orgs/${acme.slug}/webhooks`, acme.owner, {url: `${receiver.url}/in`, events: ['*']})
    const id = created.json.id as string
    const test = await call('POST', `/v1/orgs/${acme.slug}/webhooks/${id}/test`, acme.owner)
    const deliveryId = test.json.id as string

    const cases: [string, string, number, string][] = [
      ['GET', `/v1/orgs/${rival.slug}/webhooks/${id}`, 404, 'webhook.not_found'],
      ['PATCH', `/v1/orgs/${rival.slug}/webhooks/${id}`, 404, 'webhook.not_found'],
      ['DELETE', `/v1/orgs/${rival.slug}/webhooks/${id}`, 404, 'webhook.not_found'],
      ['POST', `/v1/orgs/${rival.slug}/webhooks/${id}/rotate-secret`, 404, 'webhook.not_found'],
      ['POST', `/v1/orgs/${rival.slug}/webhooks/${id}/test`, 404, 'webhook.not_found'],
      ['GET', `/v1/orgs/${rival.slug}/webhooks/${id}/deliveries`, 404, 'webhook.not_found'],
      ['GET', `/v1/orgs/${rival.slug}/webhooks/${id}/deliveries/${deliveryId}`, 404, 'webhook.delivery_not_found'],
      ['POST', `/v1/orgs/${rival.slug}/webhooks/${id}/deliveries/${deliveryId}/replay`, 404, 'webhook.delivery_not_found'],
      ['GET', `/v1/orgs/${acme.slug}/webhooks`, 404, 'org.not_found'],
    ]
    for (const [method, path, status, code] of cases) {
      const response = await call(method, path, rival.owner, method === 'PATCH' ? {events: ['*']} : undefined)
      expect({path, method, status: response.status, code: response.json?.error?.code}).toEqual({path, method, status, code})
    }
    // The rival's own delivery path with acme's delivery id: still not found.
    const rivalHook = await call('POST', `/v1/orgs/${rival.slug}/webhooks`, rival.owner, {url: `${receiver.url}/rival`, events: ['org.*']})
    const crossed = await call('GET', `/v1/orgs/${rival.slug}/webhooks/${rivalHook.json.id}/deliveries/${deliveryId}`, rival.owner)
    expect({status: crossed.status, code: crossed.json.error.code}).toEqual({status: 404, code: 'webhook.delivery_not_found'})

    const denied = await call('GET', `/v1/orgs/${acme.slug}/webhooks`, acme.member)
    expect({status: denied.status, code: denied.json.error.code}).toEqual({status: 403, code: 'permission.denied'})
    const deniedCreate = await call('POST', `/v1/orgs/${acme.slug}/webhooks`, acme.member, {url: `${receiver.url}/in`, events: ['*']})
    expect({status: deniedCreate.status, code: deniedCreate.json.error.code}).toEqual({status: 403, code: 'permission.denied'})

    for (const body of [
      {url: 'ftp://example.com/x', events: ['*']},
      {url: 'https://user:pass@example.com/x', events: ['*']},
      {url: 'not a url', events: ['*']},
      {url: `${receiver.url}/in`, events: []},
      {url: `${receiver.url}/in`, events: ['nope.thing']},
      {url: `${receiver.url}/in`, events: ['nope.*']},
    ]) {
      const response = await call('POST', `/v1/orgs/${acme.slug}/webhooks`, acme.owner, body)
      expect({body, status: response.status, code: response.json?.error?.code}).toEqual({body, status: 422, code: 'validation.failed'})
    }
  })

  it('instance-wide endpoints: platform keys only; they get events of no org, and every org’s with include_all_orgs', async () => {
    const acme = await seedOrg('acme')
    const refused = await call('POST', '/v1/webhooks', acme.owner, {url: `${receiver.url}/in`, events: ['*']})
    expect({status: refused.status, code: refused.json.error.code}).toEqual({status: 403, code: 'platform.required'})
    const {secret: platformKey} = await daemon.testCore.core.apiKeys.createPlatformKey(OPERATOR, {name: 'ops'})
    const created = await call('POST', '/v1/webhooks', platformKey, {url: `${receiver.url}/all`, events: ['user.created', 'org.updated'], include_all_orgs: true})
    expect(created.status, created.text).toBe(201)
    expect(created.json).toMatchObject({org_id: null, include_all_orgs: true})
    expect((await call('GET', '/v1/webhooks', platformKey)).json.webhooks.map((hook: {id: string}) => hook.id)).toEqual([created.json.id])
    expect((await call('GET', '/v1/webhooks', acme.owner)).status).toBe(403)

    await daemon.testCore.core.users.createUser(OPERATOR, {email: 'someone@example.com'})
    await daemon.testCore.core.orgs.updateOrg(OPERATOR, {org: acme.slug, name: 'Acme renamed'})
    await daemon.testCore.core.webhookDelivery.deliverDue()
    expect(receiver.messages.map((message) => message.payload.type)).toEqual(['user.created', 'org.updated'])
    for (const message of receiver.messages) expect(() => verifyWithStandardWebhooks(created.json.secret, message, daemon.testCore.clock.now())).not.toThrow()
  })
})
