import {sql, type Kysely} from 'kysely'
import {z} from 'zod'
import {DomainError} from '../../src/errors/domain-error.js'
import {describeErrorForLog} from '../http-errors.js'
import type {Metrics} from '../metrics.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'

const statusSchema = z.object({status: z.literal('ok')})

export interface SystemRoutesDeps {
  db: Kysely<any>
  metrics: Metrics
  readyTimeoutMs?: number
}

/** Liveness, readiness and Prometheus metrics. */
export function systemRoutes({db, metrics, readyTimeoutMs = 2000}: SystemRoutesDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/health',
      summary: 'The process is alive',
      tags: ['system'],
      responses: {200: {description: 'Alive', schema: statusSchema}},
      handle: () => ({body: {status: 'ok'}}),
    }),
    defineRoute({
      method: 'get',
      path: '/ready',
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
      summary: 'Prometheus metrics (text exposition format)',
      tags: ['system'],
      responses: {200: {description: 'Metrics', contentType: 'text/plain'}},
      async handle() {
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
