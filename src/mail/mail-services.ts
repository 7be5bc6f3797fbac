import {randomBytes} from 'node:crypto'
import {hostname} from 'node:os'
import type {AuditLog} from '../audit/audit-log.js'
import type {Config} from '../config/settings.js'
import type {DatabaseTarget} from '../db/database-url.js'
import type {JobService} from '../jobs/job-service.js'
import type {SecretKeySource} from '../security/secret-key.js'
import type {ServiceDeps} from '../shared/service-deps.js'
import {createConfiguredMailTransport} from './configured-mail-transport.js'
import {createMailAdminService} from './mail-admin-service.js'
import {createMailDelivery} from './mail-delivery.js'
import type {MailOutbox} from './mail-outbox.js'
import {mailPurgeJob} from './mail-purge-job.js'

/**
 * Wires mail delivery for createCore: the transport the settings choose (built on first
 * send), the delivery worker's core, the operator's service, and the purge-mail job.
 */
export function createMailServices(
  deps: ServiceDeps & {audit: AuditLog; jobs: JobService; outbox: MailOutbox; secretKey: SecretKeySource; publicUrl: string; config: Config; target: DatabaseTarget; cwd: string},
) {
  const {config} = deps
  const delivery = createMailDelivery({
    ...deps,
    transport: () => createConfiguredMailTransport(config, deps.target, deps.cwd),
    mailFrom: config.mailFrom,
    maxAttempts: config.mailMaxAttempts,
    retryBaseSeconds: config.mailRetryBaseSeconds,
    // Who holds a claim, for operators reading the table: host, process, and this instance.
    holder: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
  })
  deps.jobs.register(mailPurgeJob(deps))
  return {delivery, admin: createMailAdminService({...deps, delivery})}
}
