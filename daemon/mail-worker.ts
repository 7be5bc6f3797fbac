import type {Core} from '../src/core.js'
import type {DeliveryOutcome} from '../src/mail/mail-delivery.js'
import type {Logger} from './logger.js'
import {startPollingWorker} from './polling-worker.js'
import type {StopHook} from './server.js'

/**
 * Delivers the outbox in the background: every `pollMilliseconds` it asks the core for due
 * mail, and while a poll found work it asks again at once. Several daemons on one database each
 * run one; the core's claims keep them off each other's mails. Stopping waits for the run in
 * flight, so shutdown never cuts a send between the relay's answer and its bookkeeping.
 */
export function startMailWorker({core, logger, pollMilliseconds}: {core: Core; logger: Logger; pollMilliseconds: number}): StopHook {
  logger.info({destination: core.mailDelivery.destination()}, 'mail delivery started')
  return startPollingWorker({
    name: 'mail delivery',
    logger,
    pollMilliseconds,
    async poll() {
      const report = await core.mailDelivery.deliverDue()
      for (const outcome of report.outcomes) logOutcome(logger, outcome)
      return report.outcomes.length > 0
    },
  })
}

// Ids, kinds and where a mail went; never its recipient's links or the relay's password.
function logOutcome(logger: Logger, outcome: DeliveryOutcome): void {
  const fields = {mail_id: outcome.id, message_id: outcome.messageId, kind: outcome.kind, attempts: outcome.attempts}
  if (outcome.status === 'sent') {
    if (outcome.receipt.via === 'file') logger.info({...fields, path: outcome.receipt.path}, 'mail written to file (no smtp_url set)')
    else logger.info({...fields, relay: outcome.receipt.relay, response: outcome.receipt.response}, 'mail sent')
  } else if (outcome.status === 'retry') {
    logger.warn({...fields, error: outcome.error, next_attempt_at: outcome.nextAttemptAt}, 'mail delivery failed; will retry')
  } else {
    logger.error({...fields, error: outcome.error}, 'mail delivery failed too often; parked as failed (saas-ctl mail retry)')
  }
}
