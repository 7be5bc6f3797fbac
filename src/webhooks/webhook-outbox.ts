import type {Kysely} from 'kysely'
import type {AuditAppendHook, AuditEvent} from '../audit/audit-log.js'
import type {Database} from '../db/database.js'
import {sharedQuery} from '../db/prepared-query.js'
import type {ServiceDeps} from '../shared/service-deps.js'
import {matchesEventPatterns} from './event-patterns.js'

/** The body of every message: Standard Webhooks' `{type, timestamp, data}`, the event as data. */
export function webhookPayloadOf(event: AuditEvent): string {
  return JSON.stringify({
    type: event.action,
    timestamp: event.createdAt,
    data: {
      id: event.id,
      seq: event.seq,
      action: event.action,
      org_id: event.orgId,
      actor: event.actor,
      target: event.target,
      metadata: event.metadata,
      ip: event.ip,
      user_agent: event.userAgent,
      request_id: event.requestId,
      created_at: event.createdAt,
    },
  })
}

/** The webhook-id of a delivery: stable for its event and endpoint (the delivery row is unique on both). */
export const messageIdOf = (deliveryId: string) => `msg_${deliveryId}`

export interface NewDelivery {
  endpointId: string
  orgId: string | null
  eventId: string
  eventType: string
  payload: string
}

/** Writes one pending delivery, due now; returns its id. */
export async function insertDelivery(tx: Kysely<Database>, deps: Pick<ServiceDeps, 'newId' | 'clock'>, delivery: NewDelivery): Promise<string> {
  const id = deps.newId()
  await tx
    .insertInto('webhook_delivery')
    .values({
      id,
      endpoint_id: delivery.endpointId,
      org_id: delivery.orgId,
      event_id: delivery.eventId,
      event_type: delivery.eventType,
      message_id: messageIdOf(id),
      payload: delivery.payload,
      status: 'pending',
      attempts: 0,
      next_attempt_at: deps.clock.now().toISOString(),
      window_started_at: null,
      claimed_by: null,
      claimed_until: null,
      last_status_code: null,
      last_error: null,
      created_at: deps.clock.now().toISOString(),
      delivered_at: null,
    })
    .execute()
  return id
}

// The hook's reads, compiled once (sharedQuery): they run on every audited change, and Kysely
// rebuilding them each time cost more than running them on an empty or small table.
const endpointsQuery = (db: Kysely<Database>) => db.selectFrom('webhook_endpoint').select(['id', 'org_id', 'events', 'include_all_orgs']).where('disabled', '=', 0)
const selectInstanceEndpoints = sharedQuery(0, (db) => endpointsQuery(db).where('org_id', 'is', null))
const selectEndpointsOfOrg = sharedQuery(1, (db, orgId: string) => endpointsQuery(db).where((eb) => eb.or([eb('org_id', '=', orgId), eb('org_id', 'is', null)])))

/**
 * The audit append hook: in the transaction of every event, one delivery per enabled endpoint
 * that subscribes to it — the event's org's endpoints, and instance-wide ones (which get events
 * of no org, and every org's with include_all_orgs). One indexed read of the endpoint table.
 * Delivering writes no audit events, so a delivery can never cause another.
 */
export function createWebhookEnqueueHook(deps: Pick<ServiceDeps, 'newId' | 'clock'>): AuditAppendHook {
  return async (trx, event) => {
    const orgId = event.orgId
    // Read in the event's transaction on every append (never remembered: another process may add or disable an endpoint).
    const endpoints = (orgId === null ? await selectInstanceEndpoints(trx) : await selectEndpointsOfOrg(trx, orgId)).rows
    let payload: string | null = null
    for (const endpoint of endpoints) {
      if (orgId !== null && endpoint.org_id === null && endpoint.include_all_orgs !== 1) continue
      if (!matchesEventPatterns(JSON.parse(endpoint.events) as string[], event.action)) continue
      payload ??= webhookPayloadOf(event)
      await insertDelivery(trx, deps, {endpointId: endpoint.id, orgId: endpoint.org_id, eventId: event.id, eventType: event.action, payload})
    }
  }
}
