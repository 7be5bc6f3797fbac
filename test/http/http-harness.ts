import {findFreePort as findFreePortOn} from '../../daemon/find-free-port.js'
import {createServer} from 'node:net'
import {z} from 'zod'
import {createLogger} from '../../daemon/logger.js'
import {defineRoute, type AnyRoute} from '../../daemon/openapi/route.js'
import type {RunningServer, StopHook} from '../../daemon/server.js'
import {startDaemon} from '../../daemon/start-daemon.js'
import type {SettingName} from '../../src/config/settings.js'
import type {DialectName} from '../../src/db/database-url.js'
import {DomainError} from '../../src/errors/domain-error.js'
import {createTestCore, testConfig, type TestCore} from '../helpers/test-core.js'

export interface LogLine {
  level: string
  msg: string
  [field: string]: unknown
}

export interface TestDaemon {
  url: string
  running: RunningServer
  testCore: TestCore
  /** Every log line written so far, parsed; `rawLogs` is the text exactly as written. */
  logs(): LogLine[]
  rawLogs(): string
  close(): Promise<void>
}

export interface TestDaemonOptions {
  settings?: Partial<Record<SettingName, unknown>>
  routes?: AnyRoute[]
  backgroundTasks?: StopHook[]
  shutdownTimeoutMs?: number
  /** Run the daemon's mail worker (default false: tests read the outbox, or call deliverDue). */
  mailDelivery?: boolean
  /** Run the daemon's webhook worker (default false: tests read the deliveries, or call deliverDue). */
  webhookDelivery?: boolean
}

/**
 * The daemon in-process on a fresh database of the dialect, listening on a free loopback
 * port, its JSON logs captured, every JSON response checked against its declared schema.
 */
export async function startTestDaemon(dialect: DialectName, options: TestDaemonOptions = {}): Promise<TestDaemon> {
  // The core sees the same settings as the daemon (base_domain, introspection_secret, …).
  const testCore = await createTestCore(dialect, options.settings)
  const config = testConfig(testCore.database.url, {host: '127.0.0.1', port: 0, ...options.settings})
  const chunks: string[] = []
  const logger = createLogger({level: 'info', destination: {write: (chunk: string) => void chunks.push(chunk)}})
  // As `serve` runs it (key warm-up, revocation follower), minus the wall-clock cleanup jobs.
  const running = await startDaemon(testCore.core, config, {
    logger,
    routes: options.routes,
    version: '0.0.0-test',
    checkResponses: true,
    cleanupJobs: false,
    mailDelivery: options.mailDelivery ?? false,
    webhookDelivery: options.webhookDelivery ?? false,
    backgroundTasks: options.backgroundTasks,
    shutdownTimeoutMs: options.shutdownTimeoutMs,
  })
  return {
    url: running.url,
    running,
    testCore,
    rawLogs: () => chunks.join(''),
    logs: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as LogLine),
    async close() {
      await running.close()
      await testCore.close()
    },
  }
}

export const echoBodySchema = z.object({
  name: z.string().trim().min(1, 'must not be empty'),
  count: z.number().int().min(0).optional(),
  // Services' casing: the daemon converts the wire's display_name before validating.
  displayName: z.string().optional(),
})

/** Routes that exercise the registry: a body, query and path parameters, a token, errors. */
export function exerciseRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/test/items/:id',
      summary: 'Echo a validated body, query and path',
      tags: ['test'],
      params: z.object({id: z.string().regex(/^\d+$/, 'must be digits')}),
      query: z.object({limit: z.coerce.number().int().min(1).max(100).optional()}),
      body: echoBodySchema,
      responses: {201: {description: 'Echoed', schema: z.object({id: z.string(), limit: z.number().nullable(), item: z.object({name: z.string(), count: z.number().nullable(), display_name: z.string().nullable()})})}},
      handle: ({params, query, body}) => ({
        body: {id: params.id, limit: query.limit ?? null, item: {name: body.name, count: body.count ?? null, displayName: body.displayName ?? null}},
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/test/items/:id',
      summary: 'Read a path parameter',
      tags: ['test'],
      params: z.object({id: z.string()}),
      responses: {200: {description: 'The id', schema: z.object({id: z.string()})}},
      handle: ({params}) => ({body: {id: params.id}}),
    }),
    defineRoute({
      method: 'post',
      path: '/test/conflict',
      summary: 'Raise a domain error',
      tags: ['test'],
      responses: {204: {description: 'Never'}},
      handle: () => {
        throw new DomainError('org.slug_taken', 'The slug acme is taken', {slugCandidate: 'acme'})
      },
    }),
    defineRoute({
      method: 'get',
      path: '/test/crash',
      summary: 'Fail unexpectedly',
      tags: ['test'],
      responses: {200: {description: 'Never'}},
      handle: () => {
        throw new Error('kaboom: internal detail that must stay in the logs')
      },
    }),
    defineRoute({
      method: 'get',
      path: '/test/whoami',
      summary: 'The authenticated caller',
      tags: ['test'],
      auth: 'access_token',
      responses: {200: {description: 'The caller', schema: z.object({user_id: z.string(), session_id: z.string()})}},
      handle: ({caller}) => ({body: {userId: caller.userId, sessionId: caller.sessionId}}),
    }),
    defineRoute({
      method: 'get',
      path: '/test/undeclared',
      summary: 'Answer a body that breaks its declared schema',
      tags: ['test'],
      responses: {200: {description: 'Declared as a number', schema: z.object({value: z.number()})}},
      handle: () => ({body: {value: 'not a number'}}),
    }),
    defineRoute({
      method: 'get',
      path: '/test/leaky',
      summary: 'Answer a field its schema does not declare',
      tags: ['test'],
      responses: {200: {description: 'Declares only value', schema: z.object({value: z.number()})}},
      handle: () => ({body: {value: 1, passwordHash: '$argon2id$…'}}),
    }),
  ]
}

/** Fetches and asserts nothing; parses the body as JSON when it is JSON. */
export async function request(url: string, init: RequestInit = {}): Promise<{status: number; headers: Headers; text: string; json: any}> {
  const response = await fetch(url, init)
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return {status: response.status, headers: response.headers, text, json}
}

/** A TCP port free on loopback right now. */
export const findFreePort = (): Promise<number> => findFreePortOn('127.0.0.1')

/** Stack frames look like "    at fn (file:line:col)". */
export const STACK_FRAME = /\n\s+at\s|\bat .+:\d+:\d+/
