import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {openSealedText} from '../security/encryption.js'
import type {SecretKeySource} from '../security/secret-key.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {mailBodyContext} from './mail-outbox.js'
import {MailSendError, type DeliveryReceipt, type MailTransport} from './mail-transport.js'
import {mailRetryDelayMs} from './retry-backoff.js'

/**
 * How long a claim keeps other processes off a mail. Far beyond the SMTP timeouts, so a send
 * in flight is never taken over; a process that dies mid-send leaves the claim to expire, and
 * the mail is sent again then (at least once, never lost).
 */
export const MAIL_CLAIM_SECONDS = 120

/** Mails claimed per deliverDue call: one poll does a bounded amount of work. */
const DEFAULT_BATCH = 50

export type DeliveryOutcome = {id: string; messageId: string; kind: string; attempts: number} & (
  | {status: 'sent'; receipt: DeliveryReceipt}
  | {status: 'retry'; error: string; nextAttemptAt: string}
  | {status: 'failed'; error: string}
)

export interface DeliveryReport {
  sent: number
  retried: number
  failed: number
  /** One per mail this call attempted, in order (the daemon logs where each went). */
  outcomes: DeliveryOutcome[]
}

export interface MailDeliveryDeps extends ServiceDeps {
  secretKey: SecretKeySource
  /** Built on the first send, so commands that never send do not open a connection or a folder. */
  transport: () => MailTransport
  mailFrom: string
  maxAttempts: number
  retryBaseSeconds: number
  /** Names this process in claimed_by: unique per delivery instance (two cores in one process differ). */
  holder: string
  /** [0, 1), for the jitter of the backoff. */
  random?: () => number
}

export type MailDelivery = ReturnType<typeof createMailDelivery>

/**
 * Delivers the outbox. A mail is claimed by one conditional update (status pending, due, not
 * claimed or its claim expired), so of several processes on one database exactly one wins it;
 * then it is sent and marked sent (its body erased) or its failure recorded with the next
 * attempt after an exponential, jittered backoff, parked as failed after mail_max_attempts.
 */
export function createMailDelivery(deps: MailDeliveryDeps) {
  const {db} = deps
  let transport: MailTransport | null = null
  const transportOf = () => (transport ??= deps.transport())

  /** The claim columns: this process holds the mail until then. */
  function claimColumns(): {claimed_by: string; claimed_until: string} {
    return {claimed_by: deps.holder, claimed_until: new Date(deps.clock.now().getTime() + MAIL_CLAIM_SECONDS * 1000).toISOString()}
  }

  async function claim(id: string): Promise<boolean> {
    const now = nowIso(deps)
    const result = await db
      .updateTable('mail_outbox')
      .set(claimColumns())
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  async function deliverClaimed(id: string): Promise<DeliveryOutcome> {
    const row = await db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
    const attempts = row.attempts + 1
    const identity = {id, messageId: row.message_id, kind: row.kind, attempts}
    let receipt: DeliveryReceipt
    try {
      const body = openBody(row)
      receipt = await transportOf().send({from: deps.mailFrom, to: row.to_address, subject: row.subject, messageId: row.message_id, ...body})
    } catch (error) {
      const message = error instanceof MailSendError ? error.message : `${(error as Error).message ?? String(error)}`.slice(0, 500)
      if (attempts >= deps.maxAttempts) {
        await markFailure(id, {status: 'failed', attempts, last_error: message})
        return {...identity, status: 'failed', error: message}
      }
      const nextAttemptAt = new Date(deps.clock.now().getTime() + mailRetryDelayMs(attempts, deps.retryBaseSeconds, deps.random)).toISOString()
      await markFailure(id, {status: 'pending', attempts, last_error: message, next_attempt_at: nextAttemptAt})
      return {...identity, status: 'retry', error: message, nextAttemptAt}
    }
    // Outside the try: if this bookkeeping fails, the mail was still sent, and must not be
    // recorded as a failed attempt; the claim expires and it goes out again (at least once).
    await markSent(db, id, attempts, nowIso(deps))
    return {...identity, status: 'sent', receipt}
  }

  function openBody(row: {id: string; body_sealed: string | null}): {text: string; html: string} {
    if (row.body_sealed === null) throw new Error('the mail has no body (already sent?)')
    let opened: string
    try {
      opened = openSealedText(deps.secretKey.get(), row.body_sealed, mailBodyContext(row.id))
    } catch {
      // Another secret_key than the one that enqueued it: say so, without any key material.
      throw new Error('the mail body does not open with this secret_key')
    }
    return JSON.parse(opened) as {text: string; html: string}
  }

  // Only while this process still holds the claim: it must not overwrite another's newer claim.
  async function markFailure(id: string, values: {status: 'pending' | 'failed'; attempts: number; last_error: string; next_attempt_at?: string}): Promise<void> {
    await db
      .updateTable('mail_outbox')
      .set({...values, claimed_by: null, claimed_until: null})
      .where('id', '=', id)
      .where('claimed_by', '=', deps.holder)
      .execute()
  }

  return {
    /**
     * Claims the mails due now (oldest due first, at most `limit`), sends each through the
     * transport and records the outcome. Mails another process claimed are left to it.
     */
    async deliverDue(options: {limit?: number} = {}): Promise<DeliveryReport> {
      const now = nowIso(deps)
      const due = await db
        .selectFrom('mail_outbox')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(options.limit ?? DEFAULT_BATCH)
        .execute()
      const report: DeliveryReport = {sent: 0, retried: 0, failed: 0, outcomes: []}
      for (const {id} of due) {
        if (!(await claim(id))) continue
        const outcome = await deliverClaimed(id)
        report.outcomes.push(outcome)
        if (outcome.status === 'sent') report.sent++
        else if (outcome.status === 'retry') report.retried++
        else report.failed++
      }
      return report
    },

    /** The claim columns for a mail this process enqueues and sends itself at once (`mail test`). */
    claimColumns,

    /** Sends a mail this process has claimed (see claimColumns) and records the outcome. */
    deliverClaimed,

    /** Where mail goes (no password): for `mail test` and the daemon's start-up log. */
    destination: () => transportOf().destination,

    close(): void {
      transport?.close()
      transport = null
    },
  }
}

// The body goes with the send: a sent mail keeps its headers for `mail list`, not its links.
async function markSent(db: Kysely<Database>, id: string, attempts: number, now: string): Promise<void> {
  await db
    .updateTable('mail_outbox')
    .set({status: 'sent', attempts, sent_at: now, body_sealed: null, claimed_by: null, claimed_until: null})
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute()
}
