import type {Actor} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import type {DeliveryReceipt} from './mail-transport.js'
import type {MailDelivery} from './mail-delivery.js'
import {composeMail} from './mail-message.js'
import type {MailOutbox} from './mail-outbox.js'
import {listMailsSchema, mailIdSchema, testMailSchema, type MailSummary} from './mail-schemas.js'

export type MailAdminService = ReturnType<typeof createMailAdminService>

/** The operator's view of the outbox: list it, put parked mails back, send a test mail. */
export function createMailAdminService(deps: ServiceDeps & {audit: AuditLog; outbox: MailOutbox; delivery: MailDelivery; publicUrl: string}) {
  const {db, audit} = deps

  async function requeue(actor: Actor, row: {id: string; kind: string; attempts: number}, tx: typeof db): Promise<void> {
    await tx
      .updateTable('mail_outbox')
      .set({status: 'pending', attempts: 0, next_attempt_at: nowIso(deps), claimed_by: null, claimed_until: null})
      .where('id', '=', row.id)
      .where('status', '=', 'failed')
      .execute()
    await audit.append(tx, actor, {action: 'mail.retried', target: {type: 'mail', id: row.id}, metadata: {kind: row.kind, previous_attempts: row.attempts}})
  }

  return {
    /** The newest mails first (at most `limit`, default 100), optionally of one status. Raises validation.failed. */
    async listMails(_actor: Actor, input: {status?: string; limit?: number} = {}): Promise<MailSummary[]> {
      const {status, limit} = validateInput(listMailsSchema, input)
      let query = db.selectFrom('mail_outbox').select(['id', 'kind', 'to_address', 'status', 'attempts', 'next_attempt_at', 'last_error', 'created_at', 'sent_at', 'message_id'])
      if (status) query = query.where('status', '=', status)
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute()
      return rows.map((row) => ({
        id: row.id,
        kind: row.kind,
        to: row.to_address,
        status: row.status,
        attempts: row.attempts,
        nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
        lastError: row.last_error,
        createdAt: row.created_at,
        sentAt: row.sent_at,
        messageId: row.message_id,
      }))
    },

    /**
     * Puts one failed mail back in the queue, due now, with its attempts counted from zero.
     * Audited (mail.retried). Raises mail.not_found, mail.not_failed.
     */
    async retryMail(actor: Actor, input: {id: string}): Promise<{id: string}> {
      const {id} = validateInput(mailIdSchema, input)
      return inTransaction(db, async (tx) => {
        const row = await tx.selectFrom('mail_outbox').select(['id', 'kind', 'status', 'attempts']).where('id', '=', id).executeTakeFirst()
        if (!row) throw new DomainError('mail.not_found', `No mail ${id}`, {id})
        if (row.status !== 'failed') throw new DomainError('mail.not_failed', `Mail ${id} is ${row.status}, not failed: only failed mails are retried by hand`, {id, status: row.status})
        await requeue(actor, row, tx)
        return {id}
      })
    },

    /** Puts every failed mail back in the queue (one mail.retried event each); returns their ids. */
    async retryFailedMails(actor: Actor): Promise<{ids: string[]}> {
      return inTransaction(db, async (tx) => {
        const rows = await tx.selectFrom('mail_outbox').select(['id', 'kind', 'attempts']).where('status', '=', 'failed').orderBy('created_at').orderBy('id').execute()
        for (const row of rows) await requeue(actor, row, tx)
        return {ids: rows.map((row) => row.id)}
      })
    },

    /**
     * Enqueues a test mail to `to` and sends it at once through the configured transport.
     * The mail is claimed by this process in the transaction that enqueues it, so no daemon
     * sends it meanwhile. Audited (mail.test_queued). On failure it stays in the outbox, to be
     * retried like any other, and mail.delivery_failed is raised with the reason.
     */
    async sendTestMail(actor: Actor, input: {to: string}): Promise<{id: string; messageId: string; to: string; receipt: DeliveryReceipt}> {
      const {to} = validateInput(testMailSchema, input)
      const message = composeMail({
        kind: 'test',
        to,
        subject: 'saas-ctl test mail',
        paragraphs: ['This is a test mail from saas-ctl. If you read it, mail delivery works.', `Links in mails start with ${deps.publicUrl}.`],
        action: {label: 'Open saas-ctl', url: deps.publicUrl},
      })
      const queued = await inTransaction(db, async (tx) => {
        const mail = await deps.outbox.enqueue(tx, message)
        await tx.updateTable('mail_outbox').set(deps.delivery.claimColumns()).where('id', '=', mail.id).execute()
        await audit.append(tx, actor, {action: 'mail.test_queued', target: {type: 'mail', id: mail.id}, metadata: {to}})
        return mail
      })
      const outcome = await deps.delivery.deliverClaimed(queued.id)
      if (outcome.status !== 'sent') {
        const retry = outcome.status === 'retry' ? `; it stays in the outbox and is retried at ${outcome.nextAttemptAt}` : '; it is parked as failed'
        throw new DomainError('mail.delivery_failed', `The test mail could not be delivered through ${deps.delivery.destination()}: ${outcome.error}${retry}`, {
          id: queued.id,
          error: outcome.error,
          status: outcome.status === 'retry' ? 'pending' : 'failed',
        })
      }
      return {id: queued.id, messageId: queued.messageId, to, receipt: outcome.receipt}
    },
  }
}
