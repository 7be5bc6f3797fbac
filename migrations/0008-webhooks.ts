import type {Kysely} from 'kysely'
import {columnTypes} from './column-types.js'

// Frozen in time. Outgoing webhooks (Standard Webhooks): endpoints of an organization or of the
// instance (org_id null), the deliveries written in the transaction of each audit event they
// carry, and the log of every attempt. The permission webhooks.manage was seeded by 0003.

export async function up(db: Kysely<any>): Promise<void> {
  const types = columnTypes(db)

  await db.schema
    .createTable('webhook_endpoint')
    .addColumn('id', 'text', (col) => col.primaryKey())
    // null: an instance-wide endpoint (operators), which receives the events of no org.
    .addColumn('org_id', 'text', (col) => col.references('organization.id'))
    .addColumn('url', 'text', (col) => col.notNull())
    .addColumn('description', 'text')
    // JSON array of event types (audit actions) and families (`member.*`, `*`).
    .addColumn('events', 'text', (col) => col.notNull())
    // Instance-wide endpoints only: 1 also receives every organization's events.
    .addColumn('include_all_orgs', 'integer', (col) => col.notNull().defaultTo(0))
    // `whsec_…`, sealed with the secret key; the previous one stays valid until previous_expires_at.
    .addColumn('secret_sealed', 'text', (col) => col.notNull())
    .addColumn('previous_secret_sealed', 'text')
    .addColumn('previous_expires_at', types.timestamp)
    .addColumn('disabled', 'integer', (col) => col.notNull().defaultTo(0))
    // The circuit breaker: closed | open | half_open.
    .addColumn('consecutive_failures', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('breaker_state', 'text', (col) => col.notNull().defaultTo('closed'))
    .addColumn('breaker_opened_at', types.timestamp)
    // Open: the probe may go from then on. Half-open: the probe's holder and its lease.
    .addColumn('next_probe_at', types.timestamp)
    .addColumn('probe_holder', 'text')
    .addColumn('probe_until', types.timestamp)
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('updated_at', types.timestamp, (col) => col.notNull())
    .execute()
  await db.schema.createIndex('webhook_endpoint_org_idx').on('webhook_endpoint').column('org_id').execute()

  // One row per event and endpoint, written with the audit event. No foreign key to the event:
  // retention prunes events, a delivery keeps its payload.
  await db.schema
    .createTable('webhook_delivery')
    .addColumn('id', 'text', (col) => col.primaryKey())
    // CASCADE: deleting an endpoint (or purging its org) takes its deliveries whatever is in flight.
    .addColumn('endpoint_id', 'text', (col) => col.notNull().references('webhook_endpoint.id').onDelete('cascade'))
    // The endpoint's org (null: instance-wide), so a tenant's queries filter by it.
    .addColumn('org_id', 'text')
    .addColumn('event_id', 'text', (col) => col.notNull())
    .addColumn('event_type', 'text', (col) => col.notNull())
    // The webhook-id header: the same on every attempt and replay of this event to this endpoint.
    .addColumn('message_id', 'text', (col) => col.notNull().unique())
    // The exact JSON body sent on every attempt.
    .addColumn('payload', 'text', (col) => col.notNull())
    // pending | succeeded | failed
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('next_attempt_at', types.timestamp, (col) => col.notNull())
    // Retries stop webhook_retry_window_seconds after this (the first attempt, or the replay).
    .addColumn('window_started_at', types.timestamp)
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', types.timestamp)
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', types.timestamp, (col) => col.notNull())
    .addColumn('delivered_at', types.timestamp)
    .addUniqueConstraint('webhook_delivery_endpoint_event_unique', ['endpoint_id', 'event_id'])
    .execute()
  await db.schema.createIndex('webhook_delivery_due_idx').on('webhook_delivery').columns(['status', 'next_attempt_at']).execute()
  await db.schema.createIndex('webhook_delivery_endpoint_idx').on('webhook_delivery').columns(['endpoint_id', 'created_at']).execute()

  // Every attempt: when, how long, the answer's status code or the error.
  await db.schema
    .createTable('webhook_attempt')
    .addColumn('id', 'text', (col) => col.primaryKey())
    // CASCADE: an attempt a send in flight records while its delivery is deleted goes with it.
    .addColumn('delivery_id', 'text', (col) => col.notNull().references('webhook_delivery.id').onDelete('cascade'))
    .addColumn('attempted_at', types.timestamp, (col) => col.notNull())
    .addColumn('duration_ms', 'integer', (col) => col.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    // succeeded | failed
    .addColumn('outcome', 'text', (col) => col.notNull())
    .execute()
  await db.schema.createIndex('webhook_attempt_delivery_idx').on('webhook_attempt').columns(['delivery_id', 'attempted_at']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['webhook_attempt', 'webhook_delivery', 'webhook_endpoint']) await db.schema.dropTable(table).execute()
}
