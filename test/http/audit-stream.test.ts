import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import express from 'express'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {readBearerToken} from '../../daemon/bearer-token.js'
import {createLogger} from '../../daemon/logger.js'
import {errorHandler} from '../../daemon/middleware/error-handler.js'
import {requestId} from '../../daemon/middleware/request-id.js'
import {mountRoutes} from '../../daemon/openapi/mount-routes.js'
import {createOpenStreams} from '../../daemon/open-streams.js'
import {MAX_STREAMS_PER_ORG, MAX_STREAMS_PER_PRINCIPAL, orgAuditStreamRoutes} from '../../daemon/routes/org-audit-stream.js'
import type {DialectName} from '../../src/db/database-url.js'
import {waitUntil} from '../helpers/daemon-process.js'
import {createCliRunner} from '../helpers/run-cli.js'
import {createTestCore, OPERATOR} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon} from './http-harness.js'
import {expectError, startOrgApi, type OrgApi} from './org-api-fixtures.js'

// GET /v1/orgs/{org}/audit/stream: Server-Sent Events of an organization's new events,
// resumable with Last-Event-ID, checked against the caller's access on every poll, ended by
// the daemon's shutdown.

interface Frame {
  id: string | null
  event: string | null
  data: any
}

/** A minimal Server-Sent Events reader over fetch: frames as they arrive, comments counted apart. */
async function openStream(url: string, token: string, headers: Record<string, string> = {}) {
  const abort = new AbortController()
  const response = await fetch(url, {headers: {authorization: `Bearer ${token}`, ...headers}, signal: abort.signal})
  const frames: Frame[] = []
  const comments: string[] = []
  let buffered = ''
  let isEnded = false
  const reading = (async () => {
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const {done, value} = await reader.read()
        if (done) break
        buffered += decoder.decode(value, {stream: true})
        let boundary: number
        while ((boundary = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, boundary)
          buffered = buffered.slice(boundary + 2)
          const frame: Frame = {id: null, event: null, data: undefined}
          let data: string[] | null = null
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim())
            else if (line.startsWith('id: ')) frame.id = line.slice(4)
            else if (line.startsWith('event: ')) frame.event = line.slice(7)
            else if (line.startsWith('data: ')) (data ??= []).push(line.slice(6))
          }
          if (data) {
            frame.data = JSON.parse(data.join('\n'))
            frames.push(frame)
          }
        }
      }
    } catch {
      // aborted by the test
    } finally {
      isEnded = true
    }
  })()
  return {
    response,
    frames,
    comments,
    /** The data of the event frames (not `end`). */
    events: () => frames.filter((frame) => frame.event === null).map((frame) => frame.data),
    isEnded: () => isEnded,
    ended: reading,
    close: () => abort.abort(),
  }
}

const seqsOf = (events: any[]) => events.map((event) => event.seq)

describeEachDialect('audit event stream (SSE)', (dialect: DialectName) => {
  let api: OrgApi
  beforeAll(async () => {
    api = await startOrgApi(dialect)
  })
  afterAll(async () => api?.close())

  const streamUrl = (slug: string, query = '') => `${api.daemon.url}/v1/orgs/${slug}/audit/stream${query}`
  const rename = (slug: string, name: string) => api.core.orgs.updateOrg(OPERATOR, {org: slug, name})

  it('sends new events of the org only, resumes after a reconnect with Last-Event-ID without gaps or duplicates', async () => {
    const {slug, org, people} = await api.seedOrg('streamed', ['admin'])
    const other = await api.seedOrg('elsewhere', [])
    const first = await openStream(streamUrl(slug), people.owner!.bound)
    expect(first.response.status).toBe(200)
    expect(first.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(first.response.headers.get('cache-control')).toBe('no-store')
    await waitUntil(async () => first.comments.includes('connected'), 5_000)

    // Only what is appended from now on, and only this org's (the other org's events interleave).
    for (const name of ['One', 'Two', 'Three']) {
      await rename(slug, `Streamed ${name}`)
      await rename(other.slug, `Elsewhere ${name}`)
    }
    await waitUntil(async () => first.events().length >= 3, 10_000)
    first.close()
    await first.ended
    const received = first.events()
    expect(received.map((event) => event.metadata.changes.name.to)).toEqual(['Streamed One', 'Streamed Two', 'Streamed Three'])
    expect(first.frames.map((frame) => frame.id)).toEqual(received.map((event) => String(event.seq)))
    expect(received.every((event) => event.org_id === org.id && event.action === 'org.updated')).toBe(true)
    // The public event shape, snake_case, as GET …/audit lists it.
    const listed = await api.get(`/v1/orgs/${slug}/audit?limit=3`, people.owner!.bound)
    expect(received).toEqual([...listed.json.events].reverse())

    // Written while nobody listens: a member added, renames, and other orgs' events between them.
    await api.core.members.setMemberRole(OPERATOR, {org: slug, user: people.admin!.email, role: 'member'})
    await rename(other.slug, 'Elsewhere Four')
    await rename(slug, 'Streamed Four')
    await rename(slug, 'Streamed Five')
    const lastSeen = received.at(-1).seq
    const second = await openStream(streamUrl(slug), people.owner!.bound, {'Last-Event-ID': String(lastSeen)})
    await waitUntil(async () => second.events().length >= 3, 10_000)
    await rename(slug, 'Streamed Six')
    await waitUntil(async () => second.events().length >= 4, 10_000)
    second.close()
    await second.ended

    const expected = await api.core.audit.listEventsAfter({orgId: org.id, afterSeq: lastSeen})
    expect(seqsOf(second.events())).toEqual(expected.map((event) => event.seq))
    expect(second.events().map((event) => event.action)).toEqual(['member.role_updated', 'org.updated', 'org.updated', 'org.updated'])
    expect(new Set([...seqsOf(received), ...seqsOf(second.events())]).size).toBe(7)

    // last_event_id in the query does the same (for clients that cannot set headers).
    const third = await openStream(streamUrl(slug, `?last_event_id=${lastSeen}`), people.owner!.bound)
    await waitUntil(async () => third.events().length >= 4, 10_000)
    third.close()
    await third.ended
    expect(seqsOf(third.events())).toEqual(seqsOf(second.events()))
  })

  it('sends events another process (the CLI) appends', async () => {
    const {slug, org, people} = await api.seedOrg('cross-process', [])
    const stream = await openStream(streamUrl(slug), people.owner!.bound)
    await waitUntil(async () => stream.comments.includes('connected'), 5_000)
    const cli = createCliRunner(api.daemon.testCore.database.url)
    const updated = await cli.run(['org', 'update', slug, '--name', 'Renamed by the CLI'])
    expect(updated.exitCode).toBe(0)
    await waitUntil(async () => stream.events().length >= 1, 10_000)
    stream.close()
    await stream.ended
    expect(stream.events()).toMatchObject([{action: 'org.updated', org_id: org.id, actor: {type: 'cli'}, metadata: {changes: {name: {to: 'Renamed by the CLI'}}}}])
  })

  it('answers refusals before streaming as JSON errors', async () => {
    const {slug, people} = await api.seedOrg('refusing', ['member'])
    const other = await api.seedOrg('not-theirs', [])
    const get = (path: string, token: string | undefined, headers: Record<string, string> = {}) =>
      request(`${api.daemon.url}${path}`, {headers: {...(token ? {authorization: `Bearer ${token}`} : {}), ...headers}})
    expectError(await get(`/v1/orgs/${slug}/audit/stream`, undefined), 401, 'auth.invalid_token')
    expectError(await get(`/v1/orgs/${slug}/audit/stream`, people.member!.bound), 403, 'permission.denied')
    expectError(await get(`/v1/orgs/${other.slug}/audit/stream`, people.owner!.bound), 404, 'org.not_found')
    expectError(await get(`/v1/orgs/${slug}/audit/stream`, people.owner!.token), 403, 'auth.org_mismatch')
    expectError(await get(`/v1/orgs/${slug}/audit/stream`, people.owner!.bound, {'Last-Event-ID': 'not-a-seq'}), 422, 'validation.failed')
    expectError(await get(`/v1/orgs/${slug}/audit/stream?last_event_id=-1`, people.owner!.bound), 422, 'validation.failed')
  })

  // Review F4: each open stream polls the database every second for as long as it stays open.
  it(`caps open streams per principal (${MAX_STREAMS_PER_PRINCIPAL}) and per org (${MAX_STREAMS_PER_ORG}): one more is 429 http.rate_limited with Retry-After before streaming; a closed stream frees its place`, async () => {
    const {slug, people} = await api.seedOrg('capped', [])
    const get = (token: string) => request(streamUrl(slug), {headers: {authorization: `Bearer ${token}`}})
    const opened: Awaited<ReturnType<typeof openStream>>[] = []
    try {
      // The owner's streams, up to the principal's cap.
      for (let index = 0; index < MAX_STREAMS_PER_PRINCIPAL; index += 1) opened.push(await openStream(streamUrl(slug), people.owner!.bound))
      expect(opened.map((stream) => stream.response.status)).toEqual([200, 200])
      const third = await get(people.owner!.bound)
      expectError(third, 429, 'http.rate_limited')
      expect(third.json.error.details).toMatchObject({reason: 'too_many_streams'})
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0)

      // Other principals fill the org's places; then even a principal with none open is refused.
      const keys = []
      for (let index = 0; index <= MAX_STREAMS_PER_ORG - MAX_STREAMS_PER_PRINCIPAL; index += 1) keys.push(await api.core.apiKeys.createApiKey(OPERATOR, {org: slug, name: `reader ${index}`, role: 'admin'}))
      for (const key of keys.slice(0, -1)) opened.push(await openStream(streamUrl(slug), key.secret))
      expect(opened.every((stream) => stream.response.status === 200)).toBe(true)
      expect(opened).toHaveLength(MAX_STREAMS_PER_ORG)
      expectError(await get(keys.at(-1)!.secret), 429, 'http.rate_limited')
      // Another org is not affected.
      const other = await api.seedOrg('uncapped', [])
      const elsewhere = await openStream(streamUrl(other.slug), other.people.owner!.bound)
      opened.push(elsewhere)
      expect(elsewhere.response.status).toBe(200)

      // Closing one frees its place (once the daemon saw the connection close).
      const closing = opened.shift()!
      closing.close()
      await closing.ended
      let reopened: Awaited<ReturnType<typeof openStream>> | null = null
      await waitUntil(async () => {
        const attempt = await openStream(streamUrl(slug), people.owner!.bound)
        if (attempt.response.status === 200) reopened = attempt
        else attempt.close()
        return reopened !== null
      }, 10_000)
      opened.push(reopened!)
    } finally {
      for (const stream of opened) stream.close()
      await Promise.all(opened.map((stream) => stream.ended))
    }
  })

  describe('access checked again while streaming', () => {
    async function expectStreamEndsWith(stream: Awaited<ReturnType<typeof openStream>>, code: string, slug: string): Promise<void> {
      await rename(slug, `after-${code}-${api.unique('x')}`)
      await stream.ended
      const last = stream.frames.at(-1)!
      expect(last).toMatchObject({event: 'end', data: {error: {code}}})
      // Nothing of the org reached the caller after access ended.
      expect(stream.events().some((event) => event.metadata?.changes?.name?.to?.startsWith(`after-${code}`))).toBe(false)
    }

    it('a member removed from the org stops receiving', async () => {
      const {slug, people} = await api.seedOrg('removal', ['admin'])
      const stream = await openStream(streamUrl(slug), people.admin!.bound)
      expect(stream.response.status).toBe(200)
      await waitUntil(async () => stream.comments.includes('connected'), 5_000)
      await rename(slug, 'Before removal')
      await waitUntil(async () => stream.events().length >= 1, 10_000)
      await api.core.members.removeMember(OPERATOR, {org: slug, user: people.admin!.email})
      await expectStreamEndsWith(stream, 'org.not_found', slug)
    })

    it('a member demoted below audit.read stops receiving', async () => {
      const {slug, people} = await api.seedOrg('demotion', ['admin'])
      const stream = await openStream(streamUrl(slug), people.admin!.bound)
      await waitUntil(async () => stream.comments.includes('connected'), 5_000)
      await api.core.members.setMemberRole(OPERATOR, {org: slug, user: people.admin!.email, role: 'viewer'})
      await expectStreamEndsWith(stream, 'permission.denied', slug)
    })

    it('a revoked API key stops receiving', async () => {
      const {slug} = await api.seedOrg('keyed', [])
      const key = await api.core.apiKeys.createApiKey(OPERATOR, {org: slug, name: 'stream reader', role: 'admin'})
      const stream = await openStream(streamUrl(slug), key.secret)
      expect(stream.response.status).toBe(200)
      await waitUntil(async () => stream.comments.includes('connected'), 5_000)
      await rename(slug, 'Seen by the key')
      await waitUntil(async () => stream.events().length >= 1, 10_000)
      await api.core.apiKeys.revokeApiKey(OPERATOR, {id: key.key.id})
      await expectStreamEndsWith(stream, 'auth.invalid_token', slug)
    })

    it("a revoked session's token stops receiving", async () => {
      const {slug, people} = await api.seedOrg('session', [])
      const stream = await openStream(streamUrl(slug), people.owner!.bound)
      await waitUntil(async () => stream.comments.includes('connected'), 5_000)
      const sessions = await api.core.sessions.listSessions(OPERATOR, {user: people.owner!.email})
      for (const session of sessions) await api.core.sessions.revokeSession(OPERATOR, {session: session.id})
      await expectStreamEndsWith(stream, 'auth.invalid_token', slug)
    })
  })

  it('is documented in the OpenAPI document as text/event-stream', async () => {
    const document = await request(`${api.daemon.url}/openapi.json`)
    const operation = document.json.paths['/v1/orgs/{org}/audit/stream'].get
    expect(Object.keys(operation.responses['200'].content)).toEqual(['text/event-stream'])
    expect(operation.parameters.map((parameter: any) => parameter.name)).toEqual(expect.arrayContaining(['org', 'last_event_id']))
  })
})

describeEachDialect('audit event stream and shutdown', (dialect: DialectName) => {
  it('ends open streams when the daemon shuts down, so close does not wait for its timeout', async () => {
    // A long shutdown timeout: were the stream not ended, close would outlast the test's own timeout.
    const daemon = await startTestDaemon(dialect, {shutdownTimeoutMs: 60_000})
    const {core} = daemon.testCore
    await core.orgs.createOrg(OPERATOR, {name: 'Closing', slug: 'closing'})
    const key = await core.apiKeys.createApiKey(OPERATOR, {org: 'closing', name: 'reader', role: 'admin'})
    const stream = await openStream(`${daemon.url}/v1/orgs/closing/audit/stream`, key.secret)
    expect(stream.response.status).toBe(200)
    await waitUntil(async () => stream.comments.includes('connected'), 5_000)
    await daemon.close()
    await stream.ended
    expect(stream.isEnded()).toBe(true)
    const messages = daemon.logs().map((line) => line.msg)
    expect(messages).toEqual(expect.arrayContaining(['shutting down', 'stopped']))
    expect(messages).not.toContain('in-flight requests did not finish in time; connections closed')
    expect(daemon.logs().filter((line) => line.level === 'error' || (line as any).level >= 50)).toEqual([])
  })
})

describeEachDialect('audit event stream: heartbeats and a full batch', (dialect: DialectName) => {
  it('sends a ": ping" comment on every heartbeat while idle, and catches up on more events than a batch', async () => {
    const t = await createTestCore(dialect)
    // The route alone, with short intervals: the daemon's are 1 s polls and 15 s heartbeats.
    const openStreams = createOpenStreams()
    const router = express.Router()
    const logger = createLogger({level: 'silent'})
    mountRoutes(router, orgAuditStreamRoutes({core: t.core, openStreams, pollMilliseconds: 20, heartbeatMilliseconds: 30}), {logger, bodyLimitBytes: 10_000, authenticatePrincipal: (request) => t.core.bearer.authenticate(readBearerToken(request))})
    const app = express()
    app.use(requestId())
    app.use(router)
    app.use(errorHandler({logger}))
    const server = createServer(app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Beating', slug: 'beating'})
      const key = await t.core.apiKeys.createApiKey(OPERATOR, {org: 'beating', name: 'reader', role: 'admin'})
      // More events than one read takes (500): sent in order, none twice.
      await t.core.database.db.transaction().execute(async (trx) => {
        for (let index = 0; index < 1_200; index += 1) await t.core.audit.append(trx, OPERATOR, {action: 'flag.updated', orgId: org.id, metadata: {index}})
      })
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/orgs/beating/audit/stream`
      const stream = await openStream(url, key.secret, {'Last-Event-ID': '0'})
      await waitUntil(async () => stream.events().length >= 1_202 && stream.comments.filter((comment) => comment === 'ping').length >= 3, 20_000)
      const seqs = seqsOf(stream.events())
      expect(seqs).toEqual(Array.from({length: seqs.length}, (_, index) => index + 1))
      openStreams.endAll()
      await stream.ended
      expect(openStreams.size).toBe(0)
    } finally {
      await new Promise((resolve) => server.close(resolve))
      await t.close()
    }
  })
})
