import {sql, type Kysely} from 'kysely'
import {z} from 'zod'
import {DomainError} from '../../src/errors/domain-error.js'
import {timingSafeEqualStrings} from '../../src/security/secure-token.js'
import {readBearerToken} from '../bearer-token.js'
import {describeErrorForLog} from '../http-errors.js'
import type {Metrics} from '../metrics.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'

const statusSchema = z.object({status: z.literal('ok')})

export interface SystemRoutesDeps {
  db: Kysely<any>
  metrics: Metrics
  /** When set, GET /metrics requires `Authorization: Bearer <metricsToken>` (setting metrics_token). */
  metricsToken?: string
  readyTimeoutMs?: number
}

/** Liveness, readiness and Prometheus metrics. */
export function systemRoutes({db, metrics, metricsToken, readyTimeoutMs = 2000}: SystemRoutesDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/health',
      // Probes and the metrics scraper poll from one address, often: never limited.
      rateLimit: 'none',
      summary: 'The process is alive',
      tags: ['system'],
      responses: {200: {description: 'Alive', schema: statusSchema}},
      handle: () => ({body: {status: 'ok'}}),
    }),
    defineRoute({
      method: 'get',
      path: '/ready',
      rateLimit: 'none',
      summary: 'The daemon can serve: its database answers',
      tags: ['system'],
      responses: {200: {description: 'Ready', schema: statusSchema}, 503: {description: 'The database is unreachable (db.unreachable)'}},
      async handle({log}) {
        try {
          await withTimeout(sql`select 1`.execute(db), readyTimeoutMs)
        } catch (error) {
          log.warn({err: describeErrorForLog(error)}, 'readiness check failed')
          throw new DomainError('db.unreachable', 'The database is not reachable')
        }
        return {body: {status: 'ok'}}
      },
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      rateLimit: 'none',
      summary: 'Prometheus metrics (text exposition format)',
      description: 'Open unless the setting metrics_token is set; then it requires `Authorization: Bearer <metrics_token>` (401 auth.invalid_token otherwise).',
      tags: ['system'],
      responses: {200: {description: 'Metrics', contentType: 'text/plain'}, 401: {description: 'metrics_token is set and the request does not carry it (auth.invalid_token)'}},
      async handle({request}) {
        if (metricsToken !== undefined) {
          // Compared in constant time, like the introspection credential.
          if (!timingSafeEqualStrings(readBearerToken(request), metricsToken)) throw new DomainError('auth.invalid_token', 'Invalid metrics credential', {reason: 'wrong_metrics_token'})
        }
        return {body: await metrics.render(), contentType: metrics.contentType}
      },
    }),
  ]
}

async function withTimeout<T>(promise: Promise<T>, milliseconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${milliseconds} ms`)), milliseconds)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
