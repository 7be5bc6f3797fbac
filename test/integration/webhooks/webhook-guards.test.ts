import {sql} from 'kysely'
import {afterEach, expect, it} from 'vitest'
import {userActor, type Actor} from '../../../src/access/principal.js'
import {createCore, type Core} from '../../../src/core.js'
import type {HostResolver} from '../../../src/webhooks/ssrf-guard.js'
import {waitUntil} from '../../helpers/daemon-process.js'
import {createTestCore, FAST_PASSWORD_HASHER, OPERATOR, testConfig, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {startWebhookReceiver, type WebhookReceiver} from '../../helpers/webhook-receiver.js'

// The security review's findings on webhooks: who makes the daemon resolve a name (F2), the
// number of endpoints (F3), webhooks.manage without audit.read (F5), deleting an endpoint while
// a message to it is on its way (F8).

const LIMIT = 3

const orgIdOf = async (core: Core, slug: string) => (await core.database.db.selectFrom('organization').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()).id

describeEachDialect('webhook guards: permissions before resolving, endpoint limits, audit.read', (dialect) => {
  let t: TestCore | undefined
  let cores: Core[] = []
  afterEach(async () => {
    for (const core of cores) await core.close()
    cores = []
    await t?.close()
    t = undefined
  })

  /** A core on a fresh database whose resolver records every name it is asked for. */
  async function setUp() {
    t = await createTestCore(dialect, {webhookMaxEndpointsPerOrg: LIMIT})
    const lookups: string[] = []
    const resolve: HostResolver = async (host) => {
      lookups.push(host)
      return [{address: host.startsWith('internal.') ? '10.0.0.5' : '93.184.216.34', family: 4}]
    }
    const openCore = async () => {
      const core = await createCore({config: testConfig(t!.database.url, {webhookMaxEndpointsPerOrg: LIMIT}), cwd: process.cwd(), clock: t!.clock, passwords: FAST_PASSWORD_HASHER, webhookResolver: resolve})
      cores.push(core)
      return core
    }
    const core = await openCore()
    let counter = 0
    /** A user of `org` with `role`, acting through a token bound to it. */
    const member = async (org: string, role: string): Promise<Actor> => {
      const email = `${role}-${++counter}@example.com`
      const {user} = await core.users.createUser(OPERATOR, {email, password: 'correct horse battery staple'})
      await core.members.addMember(OPERATOR, {org, user: email, role})
      return userActor({userId: user.id, sessionId: `session-${counter}`, orgId: await orgIdOf(core, org), email})
    }
    await core.orgs.createOrg(OPERATOR, {name: 'Acme', slug: 'acme', tier: 'enterprise'})
    await core.orgs.createOrg(OPERATOR, {name: 'Rival', slug: 'rival', tier: 'enterprise'})
    return {core, lookups, member, openCore}
  }

  it('F2: a non-member or a member without the permission is refused before the URL’s host is resolved; an admin learns why it was refused', async () => {
    const {core, lookups, member} = await setUp()
    const rivalOwner = await member('rival', 'owner')
    const viewer = await member('acme', 'viewer')
    const admin = await member('acme', 'admin')
    const {webhook} = await core.webhooks.createWebhook(OPERATOR, {org: 'acme', url: 'https://93.184.216.34/hook', events: ['org.*']})
    const url = 'https://internal.example.test/probe'
    await expect(core.webhooks.createWebhook(rivalOwner, {org: 'acme', url, events: ['*']})).rejects.toMatchObject({code: 'org.not_found'})
    await expect(core.webhooks.createWebhook(viewer, {org: 'acme', url, events: ['*']})).rejects.toMatchObject({code: 'permission.denied'})
    await expect(core.webhooks.updateWebhook(rivalOwner, {org: 'acme', id: webhook.id, url})).rejects.toMatchObject({code: 'org.not_found'})
    await expect(core.webhooks.updateWebhook(viewer, {org: 'acme', id: webhook.id, url})).rejects.toMatchObject({code: 'permission.denied'})
    // Another org's endpoint id under the caller's own org: not found, nothing resolved either.
    await expect(core.webhooks.updateWebhook(rivalOwner, {org: 'rival', id: webhook.id, url})).rejects.toMatchObject({code: 'webhook.not_found'})
    expect(lookups).toEqual([])
    await expect(core.webhooks.createWebhook(admin, {org: 'acme', url, events: ['*']})).rejects.toMatchObject({code: 'webhook.url_refused', details: {reason: 'private_address'}})
    await expect(core.webhooks.updateWebhook(admin, {org: 'acme', id: webhook.id, url})).rejects.toMatchObject({code: 'webhook.url_refused', details: {reason: 'private_address'}})
    expect(lookups).toEqual(['internal.example.test', 'internal.example.test'])
  })

  it('F3: at most webhook_max_endpoints_per_org endpoints per org and instance-wide (webhook.limit_reached, nothing resolved), also for two creates at once', async () => {
    const {core, lookups, openCore} = await setUp()
    for (let index = 0; index < LIMIT; index++) await core.webhooks.createWebhook(OPERATOR, {org: 'acme', url: `https://hooks.example.test/${index}`, events: ['org.*']})
    lookups.length = 0
    await expect(core.webhooks.createWebhook(OPERATOR, {org: 'acme', url: 'https://hooks.example.test/more', events: ['org.*']})).rejects.toMatchObject({code: 'webhook.limit_reached', details: {limit: LIMIT}})
    expect(lookups).toEqual([])
    // Another org and the instance count on their own.
    await core.webhooks.createWebhook(OPERATOR, {org: 'rival', url: 'https://hooks.example.test/rival', events: ['org.*']})
    for (let index = 0; index < LIMIT; index++) await core.webhooks.createWebhook(OPERATOR, {url: `https://hooks.example.test/instance-${index}`, events: ['user.*']})
    await expect(core.webhooks.createWebhook(OPERATOR, {url: 'https://hooks.example.test/instance-more', events: ['user.*']})).rejects.toMatchObject({code: 'webhook.limit_reached'})
    // Deleting one makes room for one: of two creates at once (two processes), exactly one gets it.
    const [first] = await core.webhooks.listWebhooks(OPERATOR, {org: 'acme'})
    await core.webhooks.deleteWebhook(OPERATOR, {org: 'acme', id: first!.id})
    const other = await openCore()
    const results = await Promise.allSettled([core, other].map((c, index) => c.webhooks.createWebhook(OPERATOR, {org: 'acme', url: `https://hooks.example.test/race-${index}`, events: ['org.*']})))
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
    expect(results.find((result) => result.status === 'rejected')).toMatchObject({reason: {code: 'webhook.limit_reached'}})
    expect(await core.webhooks.listWebhooks(OPERATOR, {org: 'acme'})).toHaveLength(LIMIT)
  })

  it('F5: webhooks.manage alone (custom role or API key) may not create an endpoint or change where it goes or what it gets; with audit.read it may', async () => {
    const {core} = await setUp()
    await core.roles.createRole(OPERATOR, {org: 'acme', key: 'hooks-only', name: 'Hooks only', permissions: ['webhooks.manage'], level: 2})
    await core.roles.createRole(OPERATOR, {org: 'acme', key: 'hooks-audit', name: 'Hooks and audit', permissions: ['webhooks.manage', 'audit.read'], level: 2})
    const member = async (role: string) => {
      const email = `${role}@example.com`
      const {user} = await core.users.createUser(OPERATOR, {email, password: 'correct horse battery staple'})
      await core.members.addMember(OPERATOR, {org: 'acme', user: email, role})
      return userActor({userId: user.id, sessionId: `session-${role}`, orgId: await orgIdOf(core, 'acme'), email})
    }
    const hooksOnly = await member('hooks-only')
    const withAudit = await member('hooks-audit')
    const {key} = await core.apiKeys.createApiKey(OPERATOR, {org: 'acme', name: 'hooks-key', permissions: ['webhooks.manage']})
    const apiKey: Actor = {principal: {kind: 'api_key', keyId: key.id, name: key.name, orgId: await orgIdOf(core, 'acme')}, origin: {}}
    const {webhook} = await core.webhooks.createWebhook(OPERATOR, {org: 'acme', url: 'https://hooks.example.test/in', events: ['org.updated']})

    for (const actor of [hooksOnly, apiKey]) {
      await expect(core.webhooks.createWebhook(actor, {org: 'acme', url: 'https://hooks.example.test/all', events: ['*']})).rejects.toMatchObject({code: 'permission.denied', details: {permission: 'audit.read'}})
      await expect(core.webhooks.updateWebhook(actor, {org: 'acme', id: webhook.id, events: ['*']})).rejects.toMatchObject({code: 'permission.denied'})
      await expect(core.webhooks.updateWebhook(actor, {org: 'acme', id: webhook.id, url: 'https://hooks.example.test/elsewhere'})).rejects.toMatchObject({code: 'permission.denied'})
      // What does not choose where events go or which stays with webhooks.manage.
      await expect(core.webhooks.updateWebhook(actor, {org: 'acme', id: webhook.id, disabled: true})).resolves.toMatchObject({disabled: true})
      await expect(core.webhooks.updateWebhook(actor, {org: 'acme', id: webhook.id, disabled: false, description: 'ops'})).resolves.toMatchObject({disabled: false, description: 'ops'})
      await expect(core.webhooks.listWebhooks(actor, {org: 'acme'})).resolves.toHaveLength(1)
    }
    expect((await core.webhooks.getWebhook(OPERATOR, {org: 'acme', id: webhook.id})).events).toEqual(['org.updated'])
    const created = await core.webhooks.createWebhook(withAudit, {org: 'acme', url: 'https://hooks.example.test/all', events: ['*']})
    await expect(core.webhooks.updateWebhook(withAudit, {org: 'acme', id: created.webhook.id, events: ['member.*']})).resolves.toMatchObject({events: ['member.*']})
    await expect(core.webhooks.deleteWebhook(hooksOnly, {org: 'acme', id: created.webhook.id})).resolves.toMatchObject({id: created.webhook.id})
  })
})

describeEachDialect('webhook guards: an endpoint deleted while a message to it is on its way', (dialect) => {
  let t: TestCore | undefined
  let receiver: WebhookReceiver | undefined
  afterEach(async () => {
    await t?.close()
    await receiver?.stop()
    t = receiver = undefined
  })

  const rowsLeft = async (core: Core) => ({
    endpoints: (await core.database.db.selectFrom('webhook_endpoint').select('id').execute()).length,
    deliveries: (await core.database.db.selectFrom('webhook_delivery').select('id').execute()).length,
    attempts: (await core.database.db.selectFrom('webhook_attempt').select('id').execute()).length,
  })

  it('F8: the deletion waits for the send’s bookkeeping, which has logged the attempt; the deletion takes it along and succeeds (Postgres row locks)', async () => {
    // SQLite write transactions are exclusive: the interleaving below cannot happen there (the
    // delete-while-held test in webhook-delivery.test.ts and the HTTP one cover it).
    if (dialect !== 'postgres') return
    receiver = await startWebhookReceiver()
    t = await createTestCore(dialect, {webhookAllowPrivate: true})
    const {core} = t
    const {db} = core.database
    await core.orgs.createOrg(OPERATOR, {name: 'Acme', slug: 'acme'})
    const {webhook} = await core.webhooks.createWebhook(OPERATOR, {org: 'acme', url: `${receiver.url}/in`, events: ['org.updated']})
    await core.orgs.updateOrg(OPERATOR, {org: 'acme', name: 'Acme 2'})
    // Holds the endpoint's row: the send's bookkeeping then stops at its breaker update, after it
    // locked the delivery and inserted the attempt (not yet committed).
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    let locked!: () => void
    const isLocked = new Promise<void>((resolve) => (locked = resolve))
    const blocker = db.transaction().execute(async (trx) => {
      await sql`select id from webhook_endpoint where id = ${webhook.id} for update`.execute(trx)
      locked()
      await released
    })
    await isLocked
    const waiting = async () => Number((await sql<{count: string}>`select count(*) as count from pg_locks where not granted`.execute(db)).rows[0]!.count)
    const sending = core.webhookDelivery.deliverDue()
    await waitUntil(async () => (await waiting()) >= 1, 10_000)
    const deleting = core.webhooks.deleteWebhook(OPERATOR, {org: 'acme', id: webhook.id})
    await waitUntil(async () => (await waiting()) >= 2, 10_000)
    release()
    await blocker
    await expect(deleting).resolves.toEqual({id: webhook.id, deliveriesDeleted: 1})
    expect(await sending).toMatchObject({succeeded: 1})
    expect(await rowsLeft(core)).toEqual({endpoints: 0, deliveries: 0, attempts: 0})
  })

  it('F8: purging the org, and the purge job, take deliveries with their attempts (cascade)', async () => {
    receiver = await startWebhookReceiver()
    t = await createTestCore(dialect, {webhookAllowPrivate: true})
    const {core} = t
    await core.orgs.createOrg(OPERATOR, {name: 'Acme', slug: 'acme'})
    await core.webhooks.createWebhook(OPERATOR, {org: 'acme', url: `${receiver.url}/in`, events: ['org.updated']})
    await core.orgs.updateOrg(OPERATOR, {org: 'acme', name: 'Acme 2'})
    await core.webhookDelivery.deliverDue()
    expect(await rowsLeft(core)).toEqual({endpoints: 1, deliveries: 1, attempts: 1})
    // The job: a finished delivery 31 days later goes with its attempt.
    t.clock.advance(31 * 86_400_000)
    expect(await core.jobs.runNow('purge-webhook-deliveries', 'test')).toEqual({deliveries_deleted: 1})
    expect(await rowsLeft(core)).toEqual({endpoints: 1, deliveries: 0, attempts: 0})
    await core.orgs.updateOrg(OPERATOR, {org: 'acme', name: 'Acme 3'})
    await core.webhookDelivery.deliverDue()
    await core.orgs.deleteOrg(OPERATOR, {org: 'acme'})
    await core.orgs.purgeOrg(OPERATOR, {org: 'acme'})
    expect(await rowsLeft(core)).toEqual({endpoints: 0, deliveries: 0, attempts: 0})
  })
})
