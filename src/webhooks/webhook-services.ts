import {randomBytes} from 'node:crypto'
import {hostname} from 'node:os'
import type {AuditLog} from '../audit/audit-log.js'
import type {Config} from '../config/settings.js'
import type {JobDefinition, JobService} from '../jobs/job-service.js'
import type {SecretKeySource} from '../security/secret-key.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {systemResolver, type HostResolver} from './ssrf-guard.js'
import {createWebhookDelivery} from './webhook-delivery.js'
import {createWebhookEnqueueHook} from './webhook-outbox.js'
import {createWebhookSender} from './webhook-sender.js'
import {createWebhookService} from './webhook-service.js'

/** Finished deliveries (and their attempt log) stay listed this long, then go. */
export const WEBHOOK_DELIVERY_RETENTION_DAYS = 30

/**
 * Wires webhooks for createCore: the enqueue hook on every audit append, the delivery worker's
 * core (its sender SSRF-checks and pins every connection), the endpoint service, and the
 * purge job of old deliveries.
 */
export function createWebhookServices(deps: ServiceDeps & {audit: AuditLog; jobs: JobService; secretKey: SecretKeySource; config: Config; resolve?: HostResolver}) {
  const {config} = deps
  const resolve = deps.resolve ?? systemResolver
  deps.audit.onAppend(createWebhookEnqueueHook(deps))
  const delivery = createWebhookDelivery({
    ...deps,
    send: createWebhookSender({timeoutMs: config.webhookTimeoutMs, allowPrivate: config.webhookAllowPrivate, resolve}),
    holder: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    timeoutMs: config.webhookTimeoutMs,
    retryBaseSeconds: config.webhookRetryBaseSeconds,
    retryWindowSeconds: config.webhookRetryWindowSeconds,
    breakerThreshold: config.webhookBreakerThreshold,
    breakerCooldownSeconds: config.webhookBreakerCooldownSeconds,
  })
  deps.jobs.register(webhookPurgeJob(deps))
  const service = createWebhookService({...deps, delivery, allowPrivate: config.webhookAllowPrivate, resolve, maxEndpoints: config.webhookMaxEndpointsPerOrg})
  return {service, delivery}
}

/** The cleanup job `purge-webhook-deliveries`: succeeded and failed deliveries older than 30 days. */
function webhookPurgeJob(deps: Pick<ServiceDeps, 'db' | 'clock'>): JobDefinition {
  return {
    name: 'purge-webhook-deliveries',
    description: `Delete finished webhook deliveries (and their attempt log) older than ${WEBHOOK_DELIVERY_RETENTION_DAYS} days`,
    async run() {
      const before = new Date(Date.parse(nowIso(deps)) - WEBHOOK_DELIVERY_RETENTION_DAYS * 86_400_000).toISOString()
      // Their attempts go by ON DELETE CASCADE (one recorded at the same moment too).
      const result = await deps.db.deleteFrom('webhook_delivery').where('status', 'in', ['succeeded', 'failed']).where('created_at', '<', before).executeTakeFirst()
      return {deliveries_deleted: Number(result.numDeletedRows)}
    },
  }
}
