import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {PERMISSION_KEYS, type PermissionKey} from '../../src/access/permission-catalog.js'
import {OPERATOR} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {startOrgApi, type OrgApi, type Response} from './org-api-fixtures.js'

// The isolation matrix: every org-scoped route × every kind of caller → the expected answer,
// generated from the one table below, on both databases. A route added under /v1/orgs/:org
// without a row here fails the completeness test.
//
// Callers (columns), all acting on org A:
//   owner, admin, member, viewer        built-in roles of A, tokens bound to A
//   customWith / customWithout          a custom role of A (level 2) with only the row's permission / every other one
//   keyWith / keyWithout                an API key of A with only the row's permission / every other one
//   boundElsewhere                      an admin of A whose token is bound to org B
//   otherOrg                            the owner of org B, not a member of A
//   otherOrgKey                         an API key of org B holding every permission
//   anonymous                           no token
//
// Answers: S success (the row's status), D 403 permission.denied, G 403 role.grant_forbidden,
// H 403 permission.not_held, P 403 platform.required, L 403 member.last_owner,
// M 403 auth.org_mismatch, N 404 org.not_found, U 401 auth.invalid_token.

const COLUMNS = ['owner', 'admin', 'member', 'viewer', 'customWith', 'customWithout', 'keyWith', 'keyWithout', 'boundElsewhere', 'otherOrg', 'otherOrgKey', 'anonymous'] as const
type Column = (typeof COLUMNS)[number]

const ANSWERS = {
  D: {status: 403, code: 'permission.denied'},
  G: {status: 403, code: 'role.grant_forbidden'},
  H: {status: 403, code: 'permission.not_held'},
  P: {status: 403, code: 'platform.required'},
  L: {status: 403, code: 'member.last_owner'},
  M: {status: 403, code: 'auth.org_mismatch'},
  N: {status: 404, code: 'org.not_found'},
  U: {status: 401, code: 'auth.invalid_token'},
} as const
type Answer = 'S' | keyof typeof ANSWERS

interface World {
  slug: string
  orgId: string
  /** A new member of A with this role, for routes that change or remove someone. */
  newMember(role: string): Promise<{userId: string; email: string}>
  /** A new custom role of A at level 1 holding org.read. */
  newRole(): Promise<string>
  newApiKeyId(): Promise<string>
  /** A new pending invitation of A (as viewer), made by the operator. */
  newInvitationId(): Promise<string>
  /** A new webhook endpoint of A whose stored URL the SSRF guard refuses at send time (so a test send connects nowhere). */
  newWebhookId(): Promise<string>
  /** A failed delivery of a new webhook endpoint of A (replayable). */
  newWebhookDelivery(): Promise<{webhookId: string; deliveryId: string}>
  flagKey: string
}

interface Row {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  /** The route pattern as registered; `:org` is org A. */
  route: string
  /** The permission the custom roles and keys of the with/without columns are built around. */
  permission: PermissionKey
  success: number
  /** One answer per column, in COLUMNS order. */
  expect: string
  /** The concrete path and body for one call (fresh targets per call). */
  call?: (world: World) => Promise<{path?: string; body?: unknown}>
  /** Each cell gets a world of its own: the call changes A for everyone (deletes it, hands it over, …). */
  isDestructive?: boolean
  /** An event stream: a success is its status and content type; the connection is then closed. */
  isStream?: boolean
}

const orgPath = (world: World, rest = '') => `/v1/orgs/${world.slug}${rest}`

//                                                                       own adm mem vie cW cWo kW kWo bE oO oK anon
const TABLE: Row[] = [
  {method: 'GET', route: '/v1/orgs/:org', permission: 'org.read', success: 200, expect: 'S S S S S D S D M N N U'},
  {method: 'PATCH', route: '/v1/orgs/:org', permission: 'org.update', success: 200, expect: 'S S D D S D S D M N N U', call: async () => ({body: {name: 'Renamed Inc.'}})},
  {method: 'DELETE', route: '/v1/orgs/:org', permission: 'org.delete', success: 200, expect: 'S D D D S D S D M N N U', isDestructive: true},
  {
    method: 'POST',
    route: '/v1/orgs/:org/restore',
    permission: 'org.read',
    success: 200,
    // A deleted org is not found by anyone but its owners (bound anywhere) and platform principals.
    expect: 'S N N N N N N N N N N U',
    isDestructive: true,
    call: async (world) => {
      await OPERATOR_CORE.orgs.deleteOrg(OPERATOR, {org: world.slug})
      return {}
    },
  },
  {
    method: 'POST',
    route: '/v1/orgs/:org/transfer-ownership',
    permission: 'members.update_role',
    success: 200,
    expect: 'S G D D G D G D M N N U',
    isDestructive: true,
    call: async (world) => ({body: {user: (await world.newMember('member')).userId}}),
  },
  {method: 'GET', route: '/v1/orgs/:org/me', permission: 'org.read', success: 200, expect: 'S S S S S S S S M N N U'},
  {method: 'GET', route: '/v1/orgs/:org/members', permission: 'members.read', success: 200, expect: 'S S S S S D S D M N N U'},
  {
    method: 'POST',
    route: '/v1/orgs/:org/members',
    permission: 'members.invite',
    success: 201,
    // Direct adds are for platform principals; tenants invite. Refused before the org is looked up.
    expect: 'P P P P P P P P P P P U',
    call: async (world) => ({body: {user: (await OPERATOR_CORE.users.createUser(OPERATOR, {email: `direct-${world.slug}-${++counter}@example.com`})).user.id, role: 'viewer'}}),
  },
  {
    method: 'PATCH',
    route: '/v1/orgs/:org/members/:user',
    permission: 'members.update_role',
    success: 200,
    // The custom role ranks 2 and may not grant member (2); a permission-list key grants no roles.
    expect: 'S S D D G D G D M N N U',
    call: async (world) => ({path: orgPath(world, `/members/${(await world.newMember('viewer')).userId}`), body: {role: 'member'}}),
  },
  {
    method: 'DELETE',
    route: '/v1/orgs/:org/members/:user',
    permission: 'members.remove',
    success: 204,
    // A viewer ranks below the custom role (2) but not below a permission-list key (0).
    expect: 'S S D D S D G D M N N U',
    call: async (world) => ({path: orgPath(world, `/members/${(await world.newMember('viewer')).userId}`)}),
  },
  // Any member may leave, with a token bound anywhere; the only owner may not; keys are not members.
  {method: 'POST', route: '/v1/orgs/:org/leave', permission: 'org.read', success: 204, expect: 'L S S S S S D D S N N U', isDestructive: true},
  {
    method: 'POST',
    route: '/v1/orgs/:org/invitations',
    permission: 'members.invite',
    success: 201,
    // Inviting as viewer takes granting it: the custom role lacks the viewer's permissions; a permission-list key ranks 0.
    expect: 'S S S D H D G D M N N U',
    call: async () => ({body: {email: `invitee-${++counter}@example.com`, role: 'viewer'}}),
  },
  {method: 'GET', route: '/v1/orgs/:org/invitations', permission: 'members.invite', success: 200, expect: 'S S S D S D S D M N N U'},
  {
    method: 'POST',
    route: '/v1/orgs/:org/invitations/:id/resend',
    permission: 'members.invite',
    success: 200,
    expect: 'S S S D H D G D M N N U',
    call: async (world) => ({path: orgPath(world, `/invitations/${await world.newInvitationId()}/resend`)}),
  },
  {
    method: 'DELETE',
    route: '/v1/orgs/:org/invitations/:id',
    permission: 'members.invite',
    success: 204,
    expect: 'S S S D H D G D M N N U',
    call: async (world) => ({path: orgPath(world, `/invitations/${await world.newInvitationId()}`)}),
  },
  {method: 'GET', route: '/v1/orgs/:org/limits', permission: 'org.read', success: 200, expect: 'S S S S S D S D M N N U'},
  // Overrides are for platform principals, refused before the org is looked up.
  {method: 'PATCH', route: '/v1/orgs/:org/limits', permission: 'org.update', success: 200, expect: 'P P P P P P P P P P P U', call: async () => ({body: {seats: 100}})},
  {method: 'GET', route: '/v1/orgs/:org/roles', permission: 'roles.read', success: 200, expect: 'S S S S S D S D M N N U'},
  {
    method: 'POST',
    route: '/v1/orgs/:org/roles',
    permission: 'roles.manage',
    success: 201,
    // The new role holds org.read, which the custom role lacks; the key ranks 0, below level 1.
    expect: 'S S D D H D G D M N N U',
    call: async (world) => ({body: {key: `made-${++counter}`, name: 'Made', permissions: ['org.read'], level: 1}}),
  },
  {
    method: 'GET',
    route: '/v1/orgs/:org/roles/:role',
    permission: 'roles.read',
    success: 200,
    expect: 'S S S S S D S D M N N U',
    call: async (world) => ({path: orgPath(world, '/roles/viewer')}),
  },
  {
    method: 'PATCH',
    route: '/v1/orgs/:org/roles/:role',
    permission: 'roles.manage',
    success: 200,
    // Changing a role takes being able to grant it: the custom role lacks the target's org.read.
    expect: 'S S D D H D G D M N N U',
    call: async (world) => ({path: orgPath(world, `/roles/${await world.newRole()}`), body: {name: 'Renamed role'}}),
  },
  {
    method: 'DELETE',
    route: '/v1/orgs/:org/roles/:role',
    permission: 'roles.manage',
    success: 204,
    expect: 'S S D D H D G D M N N U',
    call: async (world) => ({path: orgPath(world, `/roles/${await world.newRole()}`)}),
  },
  {method: 'GET', route: '/v1/orgs/:org/flags', permission: 'flags.read', success: 200, expect: 'S S S S S D S D M N N U'},
  {
    method: 'GET',
    route: '/v1/orgs/:org/flags/:key',
    permission: 'flags.read',
    success: 200,
    expect: 'S S S S S D S D M N N U',
    call: async (world) => ({path: orgPath(world, `/flags/${world.flagKey}`)}),
  },
  {method: 'GET', route: '/v1/orgs/:org/audit', permission: 'audit.read', success: 200, expect: 'S S D D S D S D M N N U'},
  {method: 'GET', route: '/v1/orgs/:org/audit/stream', permission: 'audit.read', success: 200, expect: 'S S D D S D S D M N N U', isStream: true},
  {method: 'GET', route: '/v1/orgs/:org/api-keys', permission: 'apikeys.manage', success: 200, expect: 'S S D D S D S D M N N U'},
  {
    method: 'POST',
    route: '/v1/orgs/:org/api-keys',
    permission: 'apikeys.manage',
    success: 201,
    // The new key holds org.read, which neither the custom role nor the key of the row holds.
    expect: 'S S D D H D H D M N N U',
    call: async () => ({body: {name: `made-key-${++counter}`, permissions: ['org.read']}}),
  },
  {
    method: 'DELETE',
    route: '/v1/orgs/:org/api-keys/:id',
    permission: 'apikeys.manage',
    success: 204,
    // Revoking a key takes holding what it holds: the target key holds org.read.
    expect: 'S S D D H D H D M N N U',
    call: async (world) => ({path: orgPath(world, `/api-keys/${await world.newApiKeyId()}`)}),
  },
  // A public literal address: creating connects nowhere (no worker runs in these tests). Creating
  // (and changing the events, the PATCH row) also needs audit.read: webhooks.manage alone is D.
  {method: 'POST', route: '/v1/orgs/:org/webhooks', permission: 'webhooks.manage', success: 201, expect: 'S S D D D D D D M N N U', call: async () => ({body: {url: 'https://93.184.216.34/hook', events: ['org.*']}})},
  {method: 'GET', route: '/v1/orgs/:org/webhooks', permission: 'webhooks.manage', success: 200, expect: 'S S D D S D S D M N N U'},
  ...(
    [
      ['GET', '', 200],
      ['PATCH', '', 200],
      ['DELETE', '', 204],
      ['POST', '/rotate-secret', 200],
      ['POST', '/test', 200],
      ['GET', '/deliveries', 200],
    ] as const
  ).map(
    ([method, rest, success]): Row => ({
      method,
      route: `/v1/orgs/:org/webhooks/:id${rest}`,
      permission: 'webhooks.manage',
      success,
      expect: method === 'PATCH' ? 'S S D D D D D D M N N U' : 'S S D D S D S D M N N U',
      call: async (world) => ({path: orgPath(world, `/webhooks/${await world.newWebhookId()}${rest}`), body: method === 'PATCH' ? {events: ['*']} : undefined}),
    }),
  ),
  ...(
    [
      ['GET', ''],
      ['POST', '/replay'],
    ] as const
  ).map(
    ([method, rest]): Row => ({
      method,
      route: `/v1/orgs/:org/webhooks/:id/deliveries/:delivery${rest}`,
      permission: 'webhooks.manage',
      success: 200,
      expect: 'S S D D S D S D M N N U',
      call: async (world) => {
        const {webhookId, deliveryId} = await world.newWebhookDelivery()
        return {path: orgPath(world, `/webhooks/${webhookId}/deliveries/${deliveryId}${rest}`)}
      },
    }),
  ),
]

/**
 * A stream's answer without waiting for its end: a refusal is read whole (a JSON error); a
 * success shows its status and content type, and the connection is closed.
 */
async function openStreamHead(url: string, credential: string | null): Promise<Response> {
  const abort = new AbortController()
  const answer = await fetch(url, {headers: credential ? {authorization: `Bearer ${credential}`} : {}, signal: abort.signal})
  if (answer.status !== 200) {
    const text = await answer.text()
    return {status: answer.status, text, json: JSON.parse(text), headers: answer.headers}
  }
  expect(answer.headers.get('content-type')).toMatch(/^text\/event-stream/)
  abort.abort()
  return {status: answer.status, text: '', json: null, headers: answer.headers}
}

let counter = 0
// The core of the daemon under test, for the table's setup steps (the operator acts through it).
let OPERATOR_CORE: OrgApi['core']

function answersOf(row: Row): Record<Column, Answer> {
  const cells = row.expect.trim().split(/\s+/)
  if (cells.length !== COLUMNS.length) throw new Error(`${row.method} ${row.route}: ${cells.length} answers for ${COLUMNS.length} columns`)
  return Object.fromEntries(COLUMNS.map((column, index) => [column, cells[index] as Answer])) as Record<Column, Answer>
}

describeEachDialect('isolation matrix', (dialect) => {
  let api: OrgApi
  /** Org B: the other tenant, whose data must never appear in an answer about A. */
  let orgB: {id: string; slug: string; ownerToken: string; adminEmail: string; keySecret: string}

  beforeAll(async () => {
    api = await startOrgApi(dialect)
    OPERATOR_CORE = api.core
    await api.core.flags.createFlag(OPERATOR, {key: `iso-flag-${dialect}`, defaultEnabled: true})
    const seeded = await api.seedOrg('iso-b', ['admin'])
    // Every world's boundElsewhere caller joins B too: no seat limit there either.
    await api.core.orgs.updateOrg(OPERATOR, {org: seeded.slug, tier: 'enterprise'})
    const key = await api.core.apiKeys.createApiKey(OPERATOR, {org: seeded.slug, name: 'b-all', permissions: [...PERMISSION_KEYS]})
    orgB = {id: seeded.org.id, slug: seeded.slug, ownerToken: seeded.people.owner!.bound, adminEmail: seeded.people.admin!.email, keySecret: key.secret}
  }, 120_000)
  afterAll(async () => api?.close())

  /** Org A with its owner, and each caller made on first use (one world serves a row's non-destructive cells). */
  async function buildWorld(permission: PermissionKey) {
    const slug = api.unique('iso-a')
    const owner = await api.register('iso-a-owner')
    // Enterprise (no seat limit): a world has a member per column, more than the free tier's seats.
    const {org} = await api.core.orgs.createOrg(OPERATOR, {name: `${slug} Inc.`, slug, owner: owner.email, tier: 'enterprise'})
    const newMember = async (role: string) => {
      const account = await api.register(`iso-a-${role}`)
      await api.core.members.addMember(OPERATOR, {org: slug, user: account.email, role})
      return account
    }
    const customRole = async (label: string, permissions: string[], level = 2) => {
      const key = `${label}-${++counter}`
      await api.core.roles.createRole(OPERATOR, {org: slug, key, name: label, permissions, level})
      return key
    }
    const apiKey = async (permissions: string[]) => (await api.core.apiKeys.createApiKey(OPERATOR, {org: slug, name: `key-${++counter}`, permissions})).secret
    const everyOther = PERMISSION_KEYS.filter((key) => key !== permission)
    const makers: Record<Column, () => Promise<string | null>> = {
      owner: () => api.login(owner.email, slug),
      admin: async () => api.login((await newMember('admin')).email, slug),
      member: async () => api.login((await newMember('member')).email, slug),
      viewer: async () => api.login((await newMember('viewer')).email, slug),
      customWith: async () => api.login((await newMember(await customRole('with', [permission]))).email, slug),
      customWithout: async () => api.login((await newMember(await customRole('without', everyOther))).email, slug),
      keyWith: () => apiKey([permission]),
      keyWithout: () => apiKey(everyOther),
      boundElsewhere: async () => {
        const account = await newMember('admin')
        await api.core.members.addMember(OPERATOR, {org: orgB.slug, user: account.email, role: 'admin'})
        return api.login(account.email, orgB.slug)
      },
      otherOrg: async () => orgB.ownerToken,
      otherOrgKey: async () => orgB.keySecret,
      anonymous: async () => null,
    }
    const credentials = new Map<Column, Promise<string | null>>()
    const world: World = {
      slug,
      orgId: org.id,
      newMember: async (role) => {
        const account = await newMember(role)
        return {userId: account.userId, email: account.email}
      },
      newRole: () => customRole('target', ['org.read'], 1),
      newApiKeyId: async () => (await api.core.apiKeys.createApiKey(OPERATOR, {org: slug, name: `target-${++counter}`, permissions: ['org.read']})).key.id,
      newInvitationId: async () => {
        const {invitation} = await api.core.invitations.invite(OPERATOR, {org: slug, email: `target-${++counter}@example.com`, role: 'viewer'})
        // Mailed a while ago, so a resend is past its cooldown (the test clock stands still).
        const mailedBefore = new Date(api.core.clock.now().getTime() - 61_000).toISOString()
        await api.core.database.db.updateTable('invitation').set({sent_at: mailedBefore}).where('id', '=', invitation.id).execute()
        return invitation.id
      },
      newWebhookId: async () => {
        const {webhook} = await api.core.webhooks.createWebhook(OPERATOR, {org: slug, url: 'https://93.184.216.34/hook', events: ['org.*']})
        await api.core.database.db.updateTable('webhook_endpoint').set({url: 'http://127.0.0.1:9/refused'}).where('id', '=', webhook.id).execute()
        return webhook.id
      },
      newWebhookDelivery: async () => {
        const webhookId = await world.newWebhookId()
        const {id: deliveryId} = await api.core.webhooks.testWebhook(OPERATOR, {org: slug, id: webhookId})
        await api.core.database.db.updateTable('webhook_delivery').set({status: 'failed'}).where('id', '=', deliveryId).execute()
        return {webhookId, deliveryId}
      },
      flagKey: `iso-flag-${dialect}`,
    }
    const credentialOf = (column: Column) => {
      if (!credentials.has(column)) credentials.set(column, makers[column]())
      return credentials.get(column)!
    }
    return {world, credentialOf}
  }

  async function callCell(row: Row, world: World, credential: string | null): Promise<Response> {
    const {path, body} = (await row.call?.(world)) ?? {}
    const target = path ?? orgPath(world, row.route.replace(/^\/v1\/orgs\/:org/, ''))
    if (row.isStream) return openStreamHead(`${api.daemon.url}${target}`, credential)
    const send = {GET: api.get, POST: api.post, PATCH: api.patch, DELETE: api.del}[row.method]
    return row.method === 'GET' || row.method === 'DELETE' ? send(target, credential ?? undefined) : (send as typeof api.post)(target, credential ?? undefined, body)
  }

  function expectAnswer(row: Row, column: Column, answer: Answer, response: Response): void {
    const where = `${row.method} ${row.route} as ${column}: ${response.status} ${response.text.slice(0, 200)}`
    if (answer === 'S') expect(response.status, where).toBe(row.success)
    else expect({status: response.status, code: response.json?.error?.code}, where).toEqual(ANSWERS[answer])
    // No answer about A ever carries B's identity.
    expect(response.text, where).not.toContain(orgB.id)
    expect(response.text, where).not.toContain(orgB.slug)
    expect(response.text, where).not.toContain(orgB.adminEmail)
  }

  it('has a row for every org-scoped route the daemon serves', () => {
    const served = api.daemon.running.app.registry
      .routes()
      .filter((route) => route.path.startsWith('/v1/orgs/:org'))
      .map((route) => `${route.method.toUpperCase()} ${route.path}`)
      .sort()
    const tabled = TABLE.map((row) => `${row.method} ${row.route}`).sort()
    expect(tabled).toEqual(served)
  })

  describe.each(TABLE.map((row) => [`${row.method} ${row.route}`, row] as const))('%s', (_name, row) => {
    const answers = answersOf(row)
    if (row.isDestructive) {
      it.each(COLUMNS.map((column) => [column]))('as %s', async (column) => {
        const {world, credentialOf} = await buildWorld(row.permission)
        const response = await callCell(row, world, await credentialOf(column))
        expectAnswer(row, column, answers[column], response)
      })
      return
    }
    it('answers every caller as the table says', async () => {
      const {world, credentialOf} = await buildWorld(row.permission)
      for (const column of COLUMNS) {
        const response = await callCell(row, world, await credentialOf(column))
        expectAnswer(row, column, answers[column], response)
      }
    })
  })
})
