import type {Response} from 'express'
import type {Actor} from '../../src/access/principal.js'
import {followEvents} from '../../src/audit/audit-event-follower.js'
import {orgAuditStreamQuerySchema} from '../../src/audit/audit-schemas.js'
import type {Core} from '../../src/core.js'
import {DomainError, isDomainError} from '../../src/errors/domain-error.js'
import {toJsonShape} from '../../src/shared/json-shape.js'
import {readBearerToken} from '../bearer-token.js'
import {describeErrorForLog} from '../http-errors.js'
import type {OpenStreams} from '../open-streams.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {orgParams, requires} from './org-route-params.js'

export interface OrgAuditStreamOptions {
  core: Core
  /** Where the stream registers, so a graceful shutdown ends it at once. */
  openStreams: OpenStreams
  /** How often the database is asked for new events, and the caller's access checked again. */
  pollMilliseconds?: number
  /** A comment line this often, so proxies and clients keep an idle stream open. */
  heartbeatMilliseconds?: number
  /** Open streams of one organization on this daemon; one more is refused (429). */
  maxStreamsPerOrg?: number
  /** Open streams of one principal (a user, whatever the session; an API key) on this daemon. */
  maxStreamsPerPrincipal?: number
  /** A client that takes no data for this long (the socket's buffer full) is disconnected. */
  stallMilliseconds?: number
}

export const STREAM_POLL_MILLISECONDS = 1_000
export const STREAM_HEARTBEAT_MILLISECONDS = 15_000
export const MAX_STREAMS_PER_ORG = 5
export const MAX_STREAMS_PER_PRINCIPAL = 2
export const STREAM_STALL_MILLISECONDS = 30_000
/** What a refused stream is told to wait: streams end when their clients leave, not on a clock. */
const STREAMS_RETRY_AFTER_SECONDS = 30

const DESCRIPTION = [
  'Server-Sent Events (`text/event-stream`) of the organization\'s events as they are appended, by any daemon or the CLI (polled every second).',
  'Each event is a `message` with `id: <seq>` and `data:` the event as JSON (the shape of `GET …/audit`).',
  'Resume with the `Last-Event-ID` header (or `last_event_id`): every event after it is sent, then new ones — none twice, none missed. Without it, only events appended from now on.',
  'A `: ping` comment every 15 s keeps idle connections open. The credential and the permission are checked again on every poll:',
  'when they no longer hold (token revoked or expired, key revoked, member removed or demoted), an `event: end` with `{"error": {code, message}}` is sent and the stream ends.',
  'The stream also ends when the daemon shuts down; reconnect with `Last-Event-ID`.',
  `Each daemon keeps at most ${MAX_STREAMS_PER_ORG} streams open per organization and ${MAX_STREAMS_PER_PRINCIPAL} per principal (a user whatever the session, an API key): one more is refused with 429 \`http.rate_limited\` (\`details.reason\` \`too_many_streams\`, Retry-After) before streaming;`,
  `a client that takes no data for ${STREAM_STALL_MILLISECONDS / 1000} s is disconnected.`,
].join(' ')

/** GET /v1/orgs/{org}/audit/stream: an organization's audit events, live. */
export function orgAuditStreamRoutes(options: OrgAuditStreamOptions): AnyRoute[] {
  const {core, openStreams} = options
  const pollMilliseconds = options.pollMilliseconds ?? STREAM_POLL_MILLISECONDS
  const heartbeatMilliseconds = options.heartbeatMilliseconds ?? STREAM_HEARTBEAT_MILLISECONDS
  const maxStreamsPerOrg = options.maxStreamsPerOrg ?? MAX_STREAMS_PER_ORG
  const maxStreamsPerPrincipal = options.maxStreamsPerPrincipal ?? MAX_STREAMS_PER_PRINCIPAL
  const stallMilliseconds = options.stallMilliseconds ?? STREAM_STALL_MILLISECONDS
  return [
    defineRoute({
      method: 'get',
      path: '/v1/orgs/:org/audit/stream',
      summary: "An organization's new audit events, as Server-Sent Events",
      description: requires('audit.read', DESCRIPTION),
      tags: ['audit'],
      auth: 'principal',
      params: orgParams,
      query: orgAuditStreamQuerySchema,
      responses: {
        200: {description: 'The event stream (`id: <seq>`, `data: <event JSON>`; `: ping` comments; `event: end` when access ends)', contentType: 'text/event-stream'},
        429: {description: 'Too many open streams of the organization or the principal on this daemon (`http.rate_limited`, `details.reason` `too_many_streams`; Retry-After)'},
      },
      async handle({actor, params, query, request, response, log}) {
        // The header a reconnecting EventSource sends wins over the query parameter.
        const lastEventId = request.get('Last-Event-ID')?.trim() || query.lastEventId
        // Refusals before the first byte answer as JSON errors, with their status.
        const {orgId, afterSeq} = await core.audit.openOrgStream(actor, {org: params.org, lastEventId})
        // Each open stream polls the database every second for as long as it stays open: capped per org and per principal.
        const releasePlaces = openStreams.reserve([
          {key: `org:${orgId}`, limit: maxStreamsPerOrg},
          {key: `principal:${principalKeyOf(actor)}`, limit: maxStreamsPerPrincipal},
        ])
        if (!releasePlaces) {
          throw new DomainError('http.rate_limited', `Too many open audit streams: at most ${maxStreamsPerOrg} per organization and ${maxStreamsPerPrincipal} per principal on this daemon; close one, or retry later`, {
            reason: 'too_many_streams',
            max_per_org: maxStreamsPerOrg,
            max_per_principal: maxStreamsPerPrincipal,
            retry_after_seconds: STREAMS_RETRY_AFTER_SECONDS,
          })
        }
        const token = readBearerToken(request)
        const stop = new AbortController()
        const end = () => {
          stop.abort()
          if (!response.writableEnded) response.end()
        }
        // A client that stopped reading: its buffered data would never flush, so the connection is dropped, not ended.
        const stall = () => {
          log.warn({stall_ms: stallMilliseconds}, 'audit stream client took no data; disconnected')
          stop.abort()
          response.destroy()
        }
        const releaseStream = openStreams.add(end)
        const release = () => {
          releaseStream()
          releasePlaces()
        }
        response.once('close', () => stop.abort())
        // A write to a connection that broke meanwhile must end the stream, never crash the daemon.
        response.on('error', () => stop.abort())
        // The client may have left while access was checked: its 'close' is already past.
        if (request.socket.destroyed) stop.abort()
        response.status(200).set({'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no'})
        response.flushHeaders()
        // While idle, a full buffer that does not drain within the stall time ends the stream too.
        let needsDrainSince: number | null = null
        const heartbeat = setInterval(() => {
          if (response.writableEnded) return
          if (!response.writableNeedDrain) {
            needsDrainSince = null
            response.write(': ping\n\n')
          } else if (needsDrainSince === null) needsDrainSince = Date.now()
          else if (Date.now() - needsDrainSince >= stallMilliseconds) stall()
        }, heartbeatMilliseconds)
        try {
          response.write(': connected\n\n')
          // Every poll authenticates the credential again and reads through the service, which checks audit.read now.
          const read = async (after: number, limit: number) => {
            const principal = await core.bearer.authenticate(token)
            const current: Actor = {principal, origin: actor.origin}
            return core.audit.listOrgEventsAfter(current, {orgId, afterSeq: after, limit})
          }
          for await (const batch of followEvents({read, afterSeq, pollMilliseconds, signal: stop.signal})) {
            for (const event of batch) await writeFrame(response, `id: ${event.seq}\ndata: ${JSON.stringify(toJsonShape(event))}\n\n`, stop.signal, {stallMilliseconds, onStall: stall})
          }
        } catch (error) {
          // Once the stream was ended (client gone, shutdown), a read cut short is no failure.
          if (stop.signal.aborted) {
            // nothing to tell anyone
          } else if (isDomainError(error)) {
            await writeFrame(response, `event: end\ndata: ${JSON.stringify({error: {code: error.code, message: error.message}})}\n\n`, stop.signal, {stallMilliseconds, onStall: stall})
          } else {
            log.error({err: describeErrorForLog(error)}, 'audit stream failed')
          }
        } finally {
          clearInterval(heartbeat)
          release()
          end()
        }
        return {isStreamed: true}
      },
    }),
  ]
}

/** Who a stream counts against: a user whatever the session, an API key, an operator or job by name. */
function principalKeyOf(actor: Actor): string {
  const {principal} = actor
  if (principal.kind === 'user') return `user:${principal.userId}`
  if (principal.kind === 'api_key') return `api_key:${principal.keyId}`
  return `${principal.kind}:${principal.name}`
}

/**
 * Writes a frame; when the client reads slower than events come, waits until it caught up (or
 * left) — at most `stallMilliseconds`: a client that takes nothing for that long calls `onStall`
 * (which ends the stream), so a reader that stopped reading parks nothing indefinitely.
 */
export async function writeFrame(response: Pick<Response, 'write' | 'writableEnded' | 'on' | 'off'>, frame: string, signal: AbortSignal, stall: {stallMilliseconds: number; onStall: () => void}): Promise<void> {
  if (signal.aborted || response.writableEnded) return
  if (response.write(frame)) return
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer)
      response.off('drain', done)
      response.off('close', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(() => {
      done()
      stall.onStall()
    }, stall.stallMilliseconds)
    response.on('drain', done)
    response.on('close', done)
    signal.addEventListener('abort', done)
  })
}
