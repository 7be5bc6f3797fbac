import type {Kysely} from 'kysely'
import {requireOrgPermission, requirePermission, requirePlatformActor} from '../access/org-access.js'
import type {Actor} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database, WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow} from '../db/database.js'
import {lockAuditChain} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {sealText} from '../security/encryption.js'
import type {SecretKeySource} from '../security/secret-key.js'
import type {PurgeHook} from '../shared/purge-hooks.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {WEBHOOK_TEST_EVENT_TYPE} from './event-patterns.js'
import {checkWebhookTarget, type HostResolver} from './ssrf-guard.js'
import {webhookSecretContext, type WebhookDelivery, type WebhookDeliveryOutcome} from './webhook-delivery.js'
import {insertDelivery} from './webhook-outbox.js'
import {
  createWebhookSchema,
  deliveryRefSchema,
  listDeliveriesSchema,
  listWebhooksSchema,
  rotateSecretSchema,
  updateWebhookSchema,
  webhookRefSchema,
  type CreateWebhookInput,
  type DeliveryRefInput,
  type ListDeliveriesInput,
  type RotateSecretInput,
  type UpdateWebhookInput,
  type WebhookRefInput,
} from './webhook-schemas.js'
import {generateWebhookSecret} from './webhook-signature.js'

/** An endpoint as listed: never its secrets. */
export interface Webhook {
  id: string
  /** null: instance-wide. */
  orgId: string | null
  url: string
  description: string | null
  events: string[]
  includeAllOrgs: boolean
  disabled: boolean
  breaker: {state: 'closed' | 'open' | 'half_open'; consecutiveFailures: number; openedAt: string | null; nextProbeAt: string | null}
  /** Until then the previous secret signs too (after a rotation); null when only one secret signs. */
  previousSecretExpiresAt: string | null
  createdAt: string
  updatedAt: string
}

export interface WebhookDeliverySummary {
  id: string
  endpointId: string
  eventId: string
  eventType: string
  /** The webhook-id header. */
  messageId: string
  status: 'pending' | 'succeeded' | 'failed'
  attempts: number
  nextAttemptAt: string | null
  lastStatusCode: number | null
  lastError: string | null
  createdAt: string
  deliveredAt: string | null
}

export interface WebhookAttempt {
  attemptedAt: string
  durationMs: number
  statusCode: number | null
  error: string | null
  outcome: 'succeeded' | 'failed'
}

export type WebhookService = ReturnType<typeof createWebhookService>

export interface WebhookServiceDeps extends ServiceDeps {
  audit: AuditLog
  secretKey: SecretKeySource
  delivery: WebhookDelivery
  allowPrivate: boolean
  resolve: HostResolver
  /** webhook_max_endpoints_per_org: endpoints per organization, and instance-wide ones. */
  maxEndpoints: number
}

/**
 * Outgoing webhook endpoints: an organization's (webhooks.manage) or the instance's (org null:
 * operators and platform principals), with their secrets sealed at rest, their delivery log,
 * replays and test messages. Every change is audited; delivering is not (see webhook-outbox.ts).
 */
export function createWebhookService(deps: WebhookServiceDeps) {
  const {db, audit} = deps

  /**
   * The endpoints' scope: with `org`, that organization (webhooks.manage; another's endpoint is
   * webhook.not_found); without, a platform principal, over instance-wide endpoints (and any by id).
   * `readsAudit`: the call chooses where events go or which (create; a change of url or events),
   * which reads the audit log, so an org's endpoint also needs audit.read there.
   */
  async function resolveScope(tx: Kysely<Database>, actor: Actor, org: string | undefined, what: string, options: {readsAudit?: boolean} = {}): Promise<{orgId: string | null; slug: string | null}> {
    if (org === undefined) {
      await requirePlatformActor(tx, actor, what)
      return {orgId: null, slug: null}
    }
    const access = await requireOrgPermission(tx, actor, org, 'webhooks.manage')
    if (options.readsAudit) requirePermission(access, 'audit.read')
    return {orgId: access.org.id, slug: access.org.slug}
  }

  /**
   * Webhook changes take the audit chain's lock before they touch an endpoint or a delivery (they
   * append to the chain anyway): an audited change elsewhere enqueues deliveries while holding it,
   * so taking it first orders them without a deadlock (a deletion never waits on an enqueue that
   * waits on the deletion).
   */
  const lockChain = (tx: Kysely<Database>) => lockAuditChain(tx)

  /** Raises webhook.limit_reached when the scope already has webhook_max_endpoints_per_org endpoints. */
  async function assertEndpointRoom(tx: Kysely<Database>, scope: {orgId: string | null; slug: string | null}): Promise<void> {
    const query = tx.selectFrom('webhook_endpoint').select((eb) => eb.fn.countAll<number | string>().as('count'))
    const {count} = await (scope.orgId === null ? query.where('org_id', 'is', null) : query.where('org_id', '=', scope.orgId)).executeTakeFirstOrThrow()
    if (Number(count) >= deps.maxEndpoints) {
      throw new DomainError('webhook.limit_reached', `${scope.slug ? `"${scope.slug}"` : 'The instance'} has ${Number(count)} webhook endpoints, the most webhook_max_endpoints_per_org allows (${deps.maxEndpoints}); delete one first`, {limit: deps.maxEndpoints})
    }
  }

  async function requireEndpoint(tx: Kysely<Database>, scope: {orgId: string | null; slug: string | null}, id: string): Promise<WebhookEndpointRow> {
    let query = tx.selectFrom('webhook_endpoint').selectAll().where('id', '=', id)
    if (scope.orgId !== null) query = query.where('org_id', '=', scope.orgId)
    const row = await query.executeTakeFirst()
    if (!row) throw new DomainError('webhook.not_found', `No webhook "${id}"${scope.slug ? ` in "${scope.slug}"` : ''}`)
    return row
  }

  /**
   * The endpoint a change acts on: the caller's scope checked, then the audit chain's lock taken
   * (every webhook change holds it before touching endpoint or delivery rows, the order the
   * audited changes that enqueue deliveries take), then the endpoint read within the scope.
   */
  async function lockEndpointForChange(tx: Kysely<Database>, actor: Actor, ref: {org?: string; id: string}, what: string, options: {readsAudit?: boolean} = {}): Promise<WebhookEndpointRow> {
    const scope = await resolveScope(tx, actor, ref.org, what, options)
    await lockChain(tx)
    return requireEndpoint(tx, scope, ref.id)
  }

  async function requireDelivery(tx: Kysely<Database>, scope: {orgId: string | null; slug: string | null}, id: string, endpointId?: string): Promise<WebhookDeliveryRow> {
    let query = tx.selectFrom('webhook_delivery').selectAll().where('id', '=', id)
    if (scope.orgId !== null) query = query.where('org_id', '=', scope.orgId)
    if (endpointId !== undefined) query = query.where('endpoint_id', '=', endpointId)
    const row = await query.executeTakeFirst()
    if (!row) throw new DomainError('webhook.delivery_not_found', `No webhook delivery "${id}"${scope.slug ? ` in "${scope.slug}"` : ''}`)
    return row
  }

  /**
   * Refuses (webhook.url_refused) a URL whose host is internal, unless webhook_allow_private.
   * It resolves the host, so only callers that passed the permission checks get here (the reason,
   * private_address or unresolvable, tells what an internal name resolves to); never inside a
   * transaction (resolving may take up to RESOLVE_TIMEOUT_MS).
   */
  async function checkUrl(url: string): Promise<void> {
    await checkWebhookTarget(new URL(url), {allowPrivate: deps.allowPrivate, resolve: deps.resolve})
  }

  const seal = (endpointId: string, secret: string) => sealText(deps.secretKey.get(), secret, webhookSecretContext(endpointId))

  // The audit log records where a webhook goes by origin only: paths and queries often carry tokens.
  const originOf = (url: string) => new URL(url).origin

  return {
    /**
     * Creates an endpoint: of `org` (webhooks.manage), or instance-wide without (platform
     * principals; `includeAllOrgs` also sends it every org's events). The URL must not be
     * internal (SSRF guard). An org's endpoint reads its audit log, so it needs audit.read
     * besides webhooks.manage. At most webhook_max_endpoints_per_org per org (and instance-wide).
     * Returns the `whsec_` secret once. Raises validation.failed, webhook.url_refused,
     * webhook.limit_reached, org.not_found, permission.denied, platform.required.
     */
    async createWebhook(actor: Actor, input: CreateWebhookInput): Promise<{webhook: Webhook; secret: string}> {
      const parsed = validateInput(createWebhookSchema, input)
      if (parsed.org !== undefined && parsed.includeAllOrgs) throw new DomainError('validation.failed', 'Invalid include_all_orgs: only instance-wide endpoints receive every organization\'s events', {problems: [{field: 'include_all_orgs', message: 'only for instance-wide endpoints'}]})
      const what = 'create instance-wide webhooks'
      // Who may, and is there room, before the URL's host is resolved; both again when writing.
      await inTransaction(db, async (tx) => assertEndpointRoom(tx, await resolveScope(tx, actor, parsed.org, what, {readsAudit: true})))
      await checkUrl(parsed.url)
      return inTransaction(db, async (tx) => {
        const scope = await resolveScope(tx, actor, parsed.org, what, {readsAudit: true})
        // The chain's lock also serializes creates, so two at once cannot both take the last place.
        await lockChain(tx)
        await assertEndpointRoom(tx, scope)
        const id = deps.newId()
        const now = nowIso(deps)
        const secret = generateWebhookSecret()
        const row: WebhookEndpointRow = {
          id,
          org_id: scope.orgId,
          url: parsed.url,
          description: parsed.description ?? null,
          events: JSON.stringify(parsed.events),
          include_all_orgs: parsed.includeAllOrgs ? 1 : 0,
          secret_sealed: seal(id, secret),
          previous_secret_sealed: null,
          previous_expires_at: null,
          disabled: 0,
          consecutive_failures: 0,
          breaker_state: 'closed',
          breaker_opened_at: null,
          next_probe_at: null,
          probe_holder: null,
          probe_until: null,
          created_at: now,
          updated_at: now,
        }
        await tx.insertInto('webhook_endpoint').values(row).execute()
        await audit.append(tx, actor, {action: 'webhook.created', orgId: scope.orgId, target: {type: 'webhook', id}, metadata: {url_origin: originOf(row.url), events: parsed.events, include_all_orgs: row.include_all_orgs === 1}})
        return {webhook: toWebhook(row), secret}
      })
    },

    /** The endpoints of `org` (webhooks.manage), or without it the instance-wide ones (platform), oldest first. */
    async listWebhooks(actor: Actor, input: {org?: string} = {}): Promise<Webhook[]> {
      const parsed = validateInput(listWebhooksSchema, input)
      return inTransaction(db, async (tx) => {
        const scope = await resolveScope(tx, actor, parsed.org, 'list instance-wide webhooks')
        const query = tx.selectFrom('webhook_endpoint').selectAll()
        const rows = await (scope.orgId === null ? query.where('org_id', 'is', null) : query.where('org_id', '=', scope.orgId)).orderBy('created_at').orderBy('id').execute()
        return rows.map(toWebhook)
      })
    },

    /** One endpoint. Raises webhook.not_found (also for another organization's), org.not_found, permission.denied, platform.required. */
    async getWebhook(actor: Actor, input: WebhookRefInput): Promise<Webhook> {
      const parsed = validateInput(webhookRefSchema, input)
      return inTransaction(db, async (tx) => toWebhook(await requireEndpoint(tx, await resolveScope(tx, actor, parsed.org, 'read webhooks without naming their organization'), parsed.id)))
    },

    /**
     * Changes an endpoint's URL (SSRF-checked), events, description, include_all_orgs
     * (instance-wide only) or disabled flag. Re-enabling closes its breaker. Changing the URL or
     * the events of an org's endpoint also needs audit.read. Audited (webhook.updated). Raises
     * validation.failed, webhook.url_refused, webhook.not_found, permission.denied, …
     */
    async updateWebhook(actor: Actor, input: UpdateWebhookInput): Promise<Webhook> {
      const parsed = validateInput(updateWebhookSchema, input)
      const what = 'change webhooks without naming their organization'
      const readsAudit = parsed.url !== undefined || parsed.events !== undefined
      if (parsed.url !== undefined) {
        // Who may, and that the endpoint is theirs, before the URL's host is resolved; again when writing.
        await inTransaction(db, async (tx) => requireEndpoint(tx, await resolveScope(tx, actor, parsed.org, what, {readsAudit}), parsed.id))
        await checkUrl(parsed.url)
      }
      return inTransaction(db, async (tx) => {
        const row = await lockEndpointForChange(tx, actor, parsed, what, {readsAudit})
        if (parsed.includeAllOrgs !== undefined && row.org_id !== null) throw new DomainError('validation.failed', 'Invalid include_all_orgs: only instance-wide endpoints receive every organization\'s events', {problems: [{field: 'include_all_orgs', message: 'only for instance-wide endpoints'}]})
        const changes: Partial<WebhookEndpointRow> = {}
        if (parsed.url !== undefined && parsed.url !== row.url) changes.url = parsed.url
        if (parsed.events !== undefined && JSON.stringify(parsed.events) !== row.events) changes.events = JSON.stringify(parsed.events)
        if (parsed.description !== undefined && (parsed.description ?? null) !== row.description) changes.description = parsed.description ?? null
        if (parsed.includeAllOrgs !== undefined && (parsed.includeAllOrgs ? 1 : 0) !== row.include_all_orgs) changes.include_all_orgs = parsed.includeAllOrgs ? 1 : 0
        if (parsed.disabled !== undefined && (parsed.disabled ? 1 : 0) !== row.disabled) {
          changes.disabled = parsed.disabled ? 1 : 0
          if (!parsed.disabled) Object.assign(changes, {consecutive_failures: 0, breaker_state: 'closed', breaker_opened_at: null, next_probe_at: null, probe_holder: null, probe_until: null})
        }
        if (Object.keys(changes).length === 0) return toWebhook(row)
        const updated = {...row, ...changes, updated_at: nowIso(deps)}
        await tx.updateTable('webhook_endpoint').set({...changes, updated_at: updated.updated_at}).where('id', '=', row.id).execute()
        const changed = Object.keys(changes).filter((key) => !key.startsWith('breaker') && !key.startsWith('probe') && key !== 'next_probe_at' && key !== 'consecutive_failures')
        const metadata: Record<string, unknown> = {changed}
        if (changes.url) metadata.url_origin = originOf(changes.url)
        if (changes.events) metadata.events = JSON.parse(changes.events)
        if (changes.disabled !== undefined) metadata.disabled = changes.disabled === 1
        await audit.append(tx, actor, {action: 'webhook.updated', orgId: row.org_id, target: {type: 'webhook', id: row.id}, metadata})
        return toWebhook(updated)
      })
    },

    /** Deletes an endpoint with its deliveries and their log. Audited (webhook.deleted). Raises webhook.not_found, … */
    async deleteWebhook(actor: Actor, input: WebhookRefInput): Promise<{id: string; deliveriesDeleted: number}> {
      const parsed = validateInput(webhookRefSchema, input)
      return inTransaction(db, async (tx) => {
        const row = await lockEndpointForChange(tx, actor, parsed, 'delete webhooks without naming their organization')
        const deliveriesDeleted = await deleteEndpoints(tx, [row.id])
        await audit.append(tx, actor, {action: 'webhook.deleted', orgId: row.org_id, target: {type: 'webhook', id: row.id}, metadata: {url_origin: originOf(row.url), deliveries_deleted: deliveriesDeleted}})
        return {id: row.id, deliveriesDeleted}
      })
    },

    /**
     * A new secret; the current one keeps signing beside it for `overlapSeconds` (default a
     * day), so receivers can switch without missing a message (both signatures go in
     * webhook-signature). Returns the new secret once. Audited (webhook.secret_rotated).
     * Raises webhook.not_found, db.conflict (a rotation of the same endpoint at the same moment), …
     */
    async rotateSecret(actor: Actor, input: RotateSecretInput): Promise<{webhook: Webhook; secret: string}> {
      const parsed = validateInput(rotateSecretSchema, input)
      return inTransaction(db, async (tx) => {
        const row = await lockEndpointForChange(tx, actor, parsed, 'rotate webhook secrets without naming their organization')
        const secret = generateWebhookSecret()
        const now = nowIso(deps)
        const previousExpiresAt = parsed.overlapSeconds > 0 ? new Date(deps.clock.now().getTime() + parsed.overlapSeconds * 1000).toISOString() : null
        const changes = {secret_sealed: seal(row.id, secret), previous_secret_sealed: previousExpiresAt ? row.secret_sealed : null, previous_expires_at: previousExpiresAt, updated_at: now}
        // Conditional on the secret read: of two rotations at once, the later one is refused
        // rather than handing out a secret that never signs.
        const result = await tx.updateTable('webhook_endpoint').set(changes).where('id', '=', row.id).where('secret_sealed', '=', row.secret_sealed).executeTakeFirst()
        if (Number(result.numUpdatedRows) !== 1) throw new DomainError('db.conflict', `Webhook "${row.id}" was rotated at the same moment; try again`)
        await audit.append(tx, actor, {action: 'webhook.secret_rotated', orgId: row.org_id, target: {type: 'webhook', id: row.id}, metadata: {previous_secret_expires_at: previousExpiresAt}})
        return {webhook: toWebhook({...row, ...changes}), secret}
      })
    },

    /** An endpoint's deliveries, newest first (at most `limit`, default 50), optionally of one status. */
    async listDeliveries(actor: Actor, input: ListDeliveriesInput): Promise<WebhookDeliverySummary[]> {
      const parsed = validateInput(listDeliveriesSchema, input)
      return inTransaction(db, async (tx) => {
        const endpoint = await requireEndpoint(tx, await resolveScope(tx, actor, parsed.org, 'read webhook deliveries without naming their organization'), parsed.id)
        let query = tx.selectFrom('webhook_delivery').selectAll().where('endpoint_id', '=', endpoint.id)
        if (parsed.status) query = query.where('status', '=', parsed.status)
        const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(parsed.limit).execute()
        return rows.map(toDeliverySummary)
      })
    },

    /** One delivery with the log of its attempts, oldest first. Raises webhook.delivery_not_found, … */
    async getDelivery(actor: Actor, input: DeliveryRefInput): Promise<WebhookDeliverySummary & {attemptLog: WebhookAttempt[]}> {
      const parsed = validateInput(deliveryRefSchema, input)
      return inTransaction(db, async (tx) => {
        const row = await requireDelivery(tx, await resolveScope(tx, actor, parsed.org, 'read webhook deliveries without naming their organization'), parsed.deliveryId, parsed.id)
        const attempts = await tx.selectFrom('webhook_attempt').selectAll().where('delivery_id', '=', row.id).orderBy('attempted_at').orderBy('id').execute()
        return {...toDeliverySummary(row), attemptLog: attempts.map(toAttempt)}
      })
    },

    /**
     * Sends a delivered or failed delivery again: pending, due now, attempts and retry window
     * from zero, the same webhook-id (receivers that saw it may drop it as a repeat). Audited
     * (webhook.replayed). Raises webhook.delivery_not_found, webhook.delivery_pending, …
     */
    async replayDelivery(actor: Actor, input: DeliveryRefInput): Promise<WebhookDeliverySummary> {
      const parsed = validateInput(deliveryRefSchema, input)
      return inTransaction(db, async (tx) => {
        const scope = await resolveScope(tx, actor, parsed.org, 'replay webhook deliveries without naming their organization')
        await lockChain(tx)
        const row = await requireDelivery(tx, scope, parsed.deliveryId, parsed.id)
        if (row.status === 'pending') throw new DomainError('webhook.delivery_pending', `Delivery ${row.id} is still pending: it goes out without a replay`, {id: row.id})
        const now = nowIso(deps)
        const changes = {status: 'pending' as const, attempts: 0, next_attempt_at: now, window_started_at: null, claimed_by: null, claimed_until: null, delivered_at: null}
        const result = await tx.updateTable('webhook_delivery').set(changes).where('id', '=', row.id).where('status', '=', row.status).executeTakeFirst()
        if (Number(result.numUpdatedRows) !== 1) throw new DomainError('webhook.delivery_pending', `Delivery ${row.id} is being replayed already`, {id: row.id})
        await audit.append(tx, actor, {action: 'webhook.replayed', orgId: row.org_id, target: {type: 'webhook_delivery', id: row.id}, metadata: {webhook_id: row.endpoint_id, event_id: row.event_id, event_type: row.event_type, previous_status: row.status}})
        return toDeliverySummary({...row, ...changes})
      })
    },

    /**
     * Sends a `webhook.test` message to the endpoint now (whatever its breaker says) and
     * returns how it went; it is logged like any delivery, and retried if it failed. Audited
     * (webhook.tested).
     */
    async testWebhook(actor: Actor, input: WebhookRefInput): Promise<WebhookDeliveryOutcome> {
      const parsed = validateInput(webhookRefSchema, input)
      const deliveryId = await inTransaction(db, async (tx) => {
        const row = await lockEndpointForChange(tx, actor, parsed, 'test webhooks without naming their organization')
        const eventId = deps.newId()
        const timestamp = nowIso(deps)
        const payload = JSON.stringify({type: WEBHOOK_TEST_EVENT_TYPE, timestamp, data: {id: eventId, webhook_id: row.id, message: 'A test message from saas-ctl: if its signature verifies, this endpoint works.'}})
        const id = await insertDelivery(tx, deps, {endpointId: row.id, orgId: row.org_id, eventId, eventType: WEBHOOK_TEST_EVENT_TYPE, payload})
        // Claimed in the transaction that writes it: no worker sends it meanwhile.
        await tx.updateTable('webhook_delivery').set(deps.delivery.claimColumns()).where('id', '=', id).execute()
        await audit.append(tx, actor, {action: 'webhook.tested', orgId: row.org_id, target: {type: 'webhook', id: row.id}, metadata: {delivery_id: id}})
        return id
      })
      const outcome = await deps.delivery.deliverClaimed(deliveryId)
      if (!outcome) throw new DomainError('webhook.not_found', `Webhook "${parsed.id}" was deleted meanwhile`)
      return outcome
    },

    /** The org purge hook: its endpoints, their deliveries and their log go with it. */
    purgeHook: {
      name: 'webhooks',
      async purgeOrg(tx, orgId) {
        // The purge appends org.purged at its end: the chain's lock first, as for a deletion.
        await lockAuditChain(tx)
        const ids = (await tx.selectFrom('webhook_endpoint').select('id').where('org_id', '=', orgId).execute()).map((row) => row.id)
        await deleteEndpoints(tx, ids)
        return ids.length
      },
    } satisfies PurgeHook,
  }
}

/**
 * Deletes endpoints with their deliveries and attempts (the attempts by ON DELETE CASCADE, so one
 * a send in flight records meanwhile goes too); returns how many deliveries went. Deliveries
 * before endpoints: the order in which a send's bookkeeping locks them, so the two never
 * deadlock (the bookkeeping then finds its delivery gone and records nothing).
 */
async function deleteEndpoints(tx: Kysely<Database>, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0
  const result = await tx.deleteFrom('webhook_delivery').where('endpoint_id', 'in', ids).executeTakeFirst()
  await tx.deleteFrom('webhook_endpoint').where('id', 'in', ids).execute()
  return Number(result.numDeletedRows)
}

function toWebhook(row: WebhookEndpointRow): Webhook {
  return {
    id: row.id,
    orgId: row.org_id,
    url: row.url,
    description: row.description,
    events: JSON.parse(row.events) as string[],
    includeAllOrgs: row.include_all_orgs === 1,
    disabled: row.disabled === 1,
    breaker: {state: row.breaker_state, consecutiveFailures: row.consecutive_failures, openedAt: row.breaker_opened_at, nextProbeAt: row.next_probe_at},
    previousSecretExpiresAt: row.previous_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

function toDeliverySummary(row: WebhookDeliveryRow): WebhookDeliverySummary {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    messageId: row.message_id,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
  }
}

function toAttempt(row: WebhookAttemptRow): WebhookAttempt {
  return {attemptedAt: row.attempted_at, durationMs: row.duration_ms, statusCode: row.status_code, error: row.error, outcome: row.outcome}
}
