import type {RequestHandler} from 'express'
import type {Metrics} from '../metrics.js'
import {routePatternOf} from '../request-state.js'

/** Counts and times every answered request by method, route pattern (or "unmatched") and status. */
export function httpMetrics({metrics}: {metrics: Metrics}): RequestHandler {
  return (request, response, next) => {
    const endTimer = metrics.httpRequestDuration.startTimer()
    response.once('finish', () => {
      const labels = {method: request.method, route: routePatternOf(response) ?? 'unmatched', status: String(response.statusCode)}
      metrics.httpRequests.inc(labels)
      endTimer(labels)
    })
    next()
  }
}
