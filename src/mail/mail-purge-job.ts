import type {JobDefinition} from '../jobs/job-service.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'

/** Sent mails stay listed this long (for `mail list`), then go. */
export const SENT_MAIL_RETENTION_DAYS = 30

/**
 * The cleanup job `purge-mail`: sent mails older than 30 days. Their bodies are already gone
 * (erased when sent); pending and failed mails stay until delivered or retried.
 */
export function mailPurgeJob(deps: Pick<ServiceDeps, 'db' | 'clock'>): JobDefinition {
  return {
    name: 'purge-mail',
    description: `Delete sent mails older than ${SENT_MAIL_RETENTION_DAYS} days from the outbox`,
    async run() {
      const before = new Date(Date.parse(nowIso(deps)) - SENT_MAIL_RETENTION_DAYS * 86_400_000).toISOString()
      const result = await deps.db.deleteFrom('mail_outbox').where('status', '=', 'sent').where('sent_at', '<', before).executeTakeFirst()
      return {mails_deleted: Number(result.numDeletedRows)}
    },
  }
}
