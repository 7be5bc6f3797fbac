import type {Webhook, WebhookDeliverySummary} from '../../src/webhooks/webhook-service.js'
import {renderRecord, renderTable} from '../lib/render-table.js'

export function renderWebhook(webhook: Webhook): string {
  return renderRecord([
    ['id', webhook.id],
    ['org', webhook.orgId ?? '(instance-wide)'],
    ['url', webhook.url],
    ['events', webhook.events],
    ['all orgs', webhook.orgId === null ? webhook.includeAllOrgs : null],
    ['description', webhook.description],
    ['disabled', webhook.disabled],
    ['breaker', `${webhook.breaker.state} (${webhook.breaker.consecutiveFailures} consecutive failures)`],
    ['old secret until', webhook.previousSecretExpiresAt],
  ])
}

export function renderWebhooks(webhooks: readonly Webhook[]): string {
  return renderTable(webhooks, [
    {header: 'id', value: (webhook) => webhook.id},
    {header: 'url', value: (webhook) => webhook.url},
    {header: 'events', value: (webhook) => webhook.events},
    {header: 'disabled', value: (webhook) => webhook.disabled},
    {header: 'breaker', value: (webhook) => webhook.breaker.state},
    {header: 'created', value: (webhook) => webhook.createdAt},
  ])
}

export function renderDeliveries(deliveries: readonly WebhookDeliverySummary[]): string {
  return renderTable(deliveries, [
    {header: 'id', value: (delivery) => delivery.id},
    {header: 'event', value: (delivery) => delivery.eventType},
    {header: 'status', value: (delivery) => delivery.status},
    {header: 'attempts', value: (delivery) => delivery.attempts},
    {header: 'code', value: (delivery) => delivery.lastStatusCode},
    {header: 'last error', value: (delivery) => delivery.lastError},
    {header: 'next attempt', value: (delivery) => delivery.nextAttemptAt},
    {header: 'created', value: (delivery) => delivery.createdAt},
    {header: 'delivered', value: (delivery) => delivery.deliveredAt},
  ])
}
