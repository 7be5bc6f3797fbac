import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {inTransaction} from '../db/transaction.js'
import {mailRetryDelayMs} from '../mail/retry-backoff.js'
import {openSealedText} from '../security/encryption.js'
import type {SecretKeySource} from '../security/secret-key.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import type {WebhookSender} from './webhook-sender.js'
import {signWebhookMessage} from './webhook-signature.js'

/** The context an endpoint's secrets are sealed under: a secret copied to another row does not open. */
export const webhookSecretContext = (endpointId: string) => `webhook_endpoint:${endpointId}`

/**
 * How long a claim keeps other processes off a delivery: twice the attempt's deadline
 * (webhook_timeout_ms, which bounds resolving, connecting and the answer) and 5 s for the
 * bookkeeping, so a send in flight is never taken over; a process that dies mid-send leaves
 * the claim to expire, and the message goes again then (same webhook-id).
 */
export const webhookClaimSeconds = (timeoutMs: number) => Math.ceil((2 * timeoutMs) / 1000) + 5

/** Deliveries claimed per deliverDue call. */
const DEFAULT_BATCH = 50

export type WebhookDeliveryOutcome = {
  id: string
  messageId: string
  endpointId: string
  eventType: string
  attempts: number
  /** This attempt was the half-open breaker's probe. */
  isProbe: boolean
  statusCode: number | null
  durationMs: number
} & ({status: 'succeeded'} | {status: 'retry'; error: string; nextAttemptAt: string} | {status: 'failed'; error: string})

export interface WebhookDeliveryReport {
  succeeded: number
  retried: number
  failed: number
  outcomes: WebhookDeliveryOutcome[]
}

export interface WebhookDeliveryDeps extends ServiceDeps {
  secretKey: SecretKeySource
  send: WebhookSender
  /** Names this delivery instance in claimed_by and probe_holder (unique per core). */
  holder: string
  timeoutMs: number
  retryBaseSeconds: number
  retryWindowSeconds: number
  breakerThreshold: number
  breakerCooldownSeconds: number
  /** [0, 1), for the jitter of the backoff. */
  random?: () => number
}

export type WebhookDelivery = ReturnType<typeof createWebhookDelivery>

/**
 * Delivers webhook messages. A delivery is claimed by one conditional update (pending, due, not
 * claimed or its claim expired, its endpoint's breaker closed), so of several processes exactly
 * one sends it; a process that dies mid-send leaves the claim to expire and the message goes
 * again with the same webhook-id (at least once, never lost). Every attempt is logged; a
 * failure is retried after an exponential, jittered backoff (capped at an hour) until
 * retry_window seconds after the first attempt, then parked as failed.
 *
 * The circuit breaker, per endpoint: breaker_threshold consecutive failures open it; while open
 * nothing is sent to the endpoint (its deliveries wait, pending). After the cooldown one process
 * wins the endpoint's probe lease (half-open) and sends one delivery: success closes the breaker,
 * failure opens it for another cooldown.
 */
export function createWebhookDelivery(deps: WebhookDeliveryDeps) {
  const {db} = deps
  const claimSeconds = webhookClaimSeconds(deps.timeoutMs)
  const leaseEnd = () => new Date(deps.clock.now().getTime() + claimSeconds * 1000).toISOString()

  function claimColumns(): {claimed_by: string; claimed_until: string} {
    return {claimed_by: deps.holder, claimed_until: leaseEnd()}
  }

  /** Claims a due delivery; `probe` claims one of an endpoint this process holds the probe lease of. */
  async function claim(id: string, probe: boolean): Promise<boolean> {
    const now = nowIso(deps)
    const result = await db
      .updateTable('webhook_delivery')
      .set(claimColumns())
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
      .where('endpoint_id', 'in', (eb) => {
        const endpoints = eb.selectFrom('webhook_endpoint').select('id').where('disabled', '=', 0)
        return probe ? endpoints.where('breaker_state', '=', 'half_open').where('probe_holder', '=', deps.holder) : endpoints.where('breaker_state', '=', 'closed')
      })
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  /** The endpoints whose breaker may send its probe now and that have a delivery due; each is tried for the lease. */
  async function claimProbes(): Promise<string[]> {
    const now = nowIso(deps)
    const probeable = (query: any) =>
      query.where('disabled', '=', 0).where((eb: any) =>
        eb.or([
          eb.and([eb('breaker_state', '=', 'open'), eb('next_probe_at', '<=', now)]),
          eb.and([eb('breaker_state', '=', 'half_open'), eb('probe_until', '<', now)]),
        ]),
      )
    const candidates = await probeable(db.selectFrom('webhook_endpoint').select('id'))
      .where((eb: any) =>
        eb.exists(
          eb
            .selectFrom('webhook_delivery')
            .select('webhook_delivery.id')
            .whereRef('webhook_delivery.endpoint_id', '=', 'webhook_endpoint.id')
            .where('webhook_delivery.status', '=', 'pending')
            .where('webhook_delivery.next_attempt_at', '<=', now),
        ),
      )
      .execute()
    const claimed: string[] = []
    for (const {id: endpointId} of candidates as {id: string}[]) {
      const won = await probeable(db.updateTable('webhook_endpoint').set({breaker_state: 'half_open', probe_holder: deps.holder, probe_until: leaseEnd()}).where('id', '=', endpointId)).executeTakeFirst()
      if (Number(won.numUpdatedRows) !== 1) continue
      const next = await db
        .selectFrom('webhook_delivery')
        .select('id')
        .where('endpoint_id', '=', endpointId)
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(1)
        .executeTakeFirst()
      if (next && (await claim(next.id, true))) {
        claimed.push(next.id)
        continue
      }
      // Nothing to probe with after all: back to open, due again at once.
      await db.updateTable('webhook_endpoint').set({breaker_state: 'open', probe_holder: null, probe_until: null}).where('id', '=', endpointId).where('probe_holder', '=', deps.holder).execute()
    }
    return claimed
  }

  function secretsOf(endpoint: {id: string; secret_sealed: string; previous_secret_sealed: string | null; previous_expires_at: string | null}, now: string): string[] {
    const key = deps.secretKey.get()
    const context = webhookSecretContext(endpoint.id)
    const secrets = [openSealedText(key, endpoint.secret_sealed, context)]
    if (endpoint.previous_secret_sealed && endpoint.previous_expires_at && endpoint.previous_expires_at > now) secrets.push(openSealedText(key, endpoint.previous_secret_sealed, context))
    return secrets
  }

  /** Sends a delivery this process has claimed, logs the attempt and records the outcome (and the breaker's). */
  async function deliverClaimed(id: string, options: {isProbe?: boolean} = {}): Promise<WebhookDeliveryOutcome | null> {
    const isProbe = options.isProbe ?? false
    const row = await db
      .selectFrom('webhook_delivery')
      .innerJoin('webhook_endpoint', 'webhook_endpoint.id', 'webhook_delivery.endpoint_id')
      .select([
        'webhook_delivery.id',
        'webhook_delivery.endpoint_id',
        'webhook_delivery.event_type',
        'webhook_delivery.message_id',
        'webhook_delivery.payload',
        'webhook_delivery.attempts',
        'webhook_delivery.window_started_at',
        'webhook_endpoint.url',
        'webhook_endpoint.secret_sealed',
        'webhook_endpoint.previous_secret_sealed',
        'webhook_endpoint.previous_expires_at',
      ])
      .where('webhook_delivery.id', '=', id)
      .executeTakeFirst()
    if (!row) return null
    const attemptedAt = deps.clock.now()
    const now = attemptedAt.toISOString()
    const attempts = row.attempts + 1
    const startedAt = performance.now()
    let statusCode: number | null = null
    let error: string | null = null
    try {
      const secrets = secretsOf({id: row.endpoint_id, secret_sealed: row.secret_sealed, previous_secret_sealed: row.previous_secret_sealed, previous_expires_at: row.previous_expires_at}, now)
      const timestamp = Math.floor(attemptedAt.getTime() / 1000)
      const headers = {
        'content-type': 'application/json',
        'webhook-id': row.message_id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhookMessage(secrets, row.message_id, timestamp, row.payload),
      }
      const result = await deps.send({url: row.url, headers, body: row.payload})
      statusCode = result.statusCode
      error = result.error ?? (statusCode !== null && (statusCode < 200 || statusCode > 299) ? `HTTP ${statusCode}${statusCode >= 300 && statusCode < 400 ? ' (redirects are not followed)' : ''}` : null)
    } catch {
      // Only the secrets can throw here (the sender never does): say so without key material.
      error = 'the endpoint secret does not open with this secret_key'
    }
    const durationMs = Math.round(performance.now() - startedAt)
    const identity = {id, messageId: row.message_id, endpointId: row.endpoint_id, eventType: row.event_type, attempts, isProbe, statusCode, durationMs}
    const finishedAt = nowIso(deps)
    const windowStartedAt = row.window_started_at ?? now
    let outcome: WebhookDeliveryOutcome
    if (error === null) outcome = {...identity, status: 'succeeded'}
    else {
      const nextAttemptAt = new Date(deps.clock.now().getTime() + mailRetryDelayMs(attempts, deps.retryBaseSeconds, deps.random)).toISOString()
      const windowEnd = new Date(Date.parse(windowStartedAt) + deps.retryWindowSeconds * 1000).toISOString()
      outcome = nextAttemptAt > windowEnd ? {...identity, status: 'failed', error} : {...identity, status: 'retry', error, nextAttemptAt}
    }
    await inTransaction(db, async (tx) => {
      // Only while this process still holds the claim: it must not overwrite another's newer claim.
      const updated = await tx
        .updateTable('webhook_delivery')
        .set({
          status: outcome.status === 'retry' ? 'pending' : outcome.status,
          attempts,
          window_started_at: windowStartedAt,
          last_status_code: statusCode,
          last_error: error,
          claimed_by: null,
          claimed_until: null,
          ...(outcome.status === 'retry' ? {next_attempt_at: outcome.nextAttemptAt} : {}),
          ...(outcome.status === 'succeeded' ? {delivered_at: finishedAt} : {}),
        })
        .where('id', '=', id)
        .where('claimed_by', '=', deps.holder)
        .executeTakeFirst()
      // Another process's claim: the attempt is still logged, with the delivery's row locked by a
      // no-op update (both dialects) so a deletion cannot slip in before the attempt's insert. No
      // row: the endpoint (and so the delivery) was deleted while the message was on its way —
      // nothing to record. A deletion waiting on the update above takes the attempt with it (cascade).
      if (Number(updated.numUpdatedRows) === 0) {
        const stillThere = await tx.updateTable('webhook_delivery').set((eb) => ({attempts: eb.ref('attempts')})).where('id', '=', id).executeTakeFirst()
        if (Number(stillThere.numUpdatedRows) === 0) return
      }
      await tx
        .insertInto('webhook_attempt')
        .values({id: deps.newId(), delivery_id: id, attempted_at: now, duration_ms: durationMs, status_code: statusCode, error, outcome: error === null ? 'succeeded' : 'failed'})
        .execute()
      await recordBreakerOutcome(tx, row.endpoint_id, error === null, isProbe, finishedAt)
    })
    return outcome
  }

  async function recordBreakerOutcome(tx: Kysely<Database>, endpointId: string, isSuccess: boolean, isProbe: boolean, now: string): Promise<void> {
    const endpoint = tx.updateTable('webhook_endpoint').where('id', '=', endpointId)
    if (isSuccess) {
      await endpoint.set({consecutive_failures: 0, breaker_state: 'closed', breaker_opened_at: null, next_probe_at: null, probe_holder: null, probe_until: null}).execute()
      return
    }
    const nextProbeAt = new Date(Date.parse(now) + deps.breakerCooldownSeconds * 1000).toISOString()
    await endpoint.set((eb) => ({consecutive_failures: eb('consecutive_failures', '+', 1)})).execute()
    const open = {breaker_state: 'open' as const, breaker_opened_at: now, next_probe_at: nextProbeAt, probe_holder: null, probe_until: null}
    if (isProbe) await endpoint.set(open).where('breaker_state', '=', 'half_open').where('probe_holder', '=', deps.holder).execute()
    else await endpoint.set(open).where('breaker_state', '=', 'closed').where('consecutive_failures', '>=', deps.breakerThreshold).execute()
  }

  return {
    /**
     * Sends what is due now: first one probe per endpoint whose breaker cooled down (this
     * process won its lease), then up to `limit` due deliveries of endpoints whose breaker is
     * closed, oldest due first. Deliveries another process claimed are left to it. Once
     * `shouldStop` answers true (shutdown), no further delivery is claimed.
     */
    async deliverDue(options: {limit?: number; shouldStop?: () => boolean} = {}): Promise<WebhookDeliveryReport> {
      const shouldStop = options.shouldStop ?? (() => false)
      const report: WebhookDeliveryReport = {succeeded: 0, retried: 0, failed: 0, outcomes: []}
      const count = (outcome: WebhookDeliveryOutcome | null) => {
        if (!outcome) return
        report.outcomes.push(outcome)
        if (outcome.status === 'succeeded') report.succeeded++
        else if (outcome.status === 'retry') report.retried++
        else report.failed++
      }
      if (shouldStop()) return report
      for (const id of await claimProbes()) count(await deliverClaimed(id, {isProbe: true}))
      const now = nowIso(deps)
      const due = await db
        .selectFrom('webhook_delivery')
        .innerJoin('webhook_endpoint', 'webhook_endpoint.id', 'webhook_delivery.endpoint_id')
        .select('webhook_delivery.id')
        .where('webhook_delivery.status', '=', 'pending')
        .where('webhook_delivery.next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('webhook_delivery.claimed_until', 'is', null), eb('webhook_delivery.claimed_until', '<', now)]))
        .where('webhook_endpoint.breaker_state', '=', 'closed')
        .where('webhook_endpoint.disabled', '=', 0)
        .orderBy('webhook_delivery.next_attempt_at')
        .orderBy('webhook_delivery.id')
        .limit(options.limit ?? DEFAULT_BATCH)
        .execute()
      for (const {id} of due) {
        if (shouldStop()) break
        if (await claim(id, false)) count(await deliverClaimed(id))
      }
      return report
    },

    /** The claim columns for a delivery this process writes and sends itself at once (`webhook test`). */
    claimColumns,

    /** Sends a delivery this process has claimed (see claimColumns) and records the outcome. */
    deliverClaimed,
  }
}
