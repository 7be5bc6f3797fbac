import type {Core} from '../src/core.js'
import type {WebhookDeliveryOutcome} from '../src/webhooks/webhook-delivery.js'
import type {Logger} from './logger.js'
import {startPollingWorker} from './polling-worker.js'
import type {StopHook} from './server.js'

/**
 * Delivers webhooks in the background: every `pollMilliseconds` it asks the core for due
 * deliveries, and while a poll found work it asks again at once. Several daemons on one
 * database each run one; the core's claims keep them off each other's deliveries. Stopping claims
 * nothing more and waits for the send in flight, so shutdown never cuts a send between the
 * receiver's answer and its bookkeeping.
 */
export function startWebhookWorker({core, logger, pollMilliseconds}: {core: Core; logger: Logger; pollMilliseconds: number}): StopHook {
  return startPollingWorker({
    name: 'webhook delivery',
    logger,
    pollMilliseconds,
    async poll(isStopping) {
      // Shutdown waits for the send in flight, not for the rest of the batch.
      const report = await core.webhookDelivery.deliverDue({shouldStop: isStopping})
      for (const outcome of report.outcomes) logOutcome(logger, outcome)
      return report.outcomes.length > 0
    },
  })
}

// Ids, types, status codes; never the payload, the URL's path or the signature.
function logOutcome(logger: Logger, outcome: WebhookDeliveryOutcome): void {
  const fields = {delivery_id: outcome.id, webhook_id: outcome.endpointId, message_id: outcome.messageId, event_type: outcome.eventType, attempts: outcome.attempts, status_code: outcome.statusCode, duration_ms: outcome.durationMs, probe: outcome.isProbe}
  if (outcome.status === 'succeeded') logger.info(fields, 'webhook delivered')
  else if (outcome.status === 'retry') logger.warn({...fields, error: outcome.error, next_attempt_at: outcome.nextAttemptAt}, 'webhook delivery failed; will retry')
  else logger.error({...fields, error: outcome.error}, 'webhook delivery failed for the whole retry window; parked as failed (saas-ctl webhook replay)')
}
