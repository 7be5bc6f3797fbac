import type {RequestHandler} from 'express'
import type {Logger} from '../logger.js'
import {requestIdOf, routePatternOf} from '../request-state.js'

/**
 * One JSON line per request, when its response is finished or its connection lost: method,
 * route pattern, status, duration, request id. Never a header value, a body or a query
 * string, where tokens and passwords travel; the route pattern stands in for the URL.
 */
export function accessLog({logger}: {logger: Logger}): RequestHandler {
  return (request, response, next) => {
    const startedAt = process.hrtime.bigint()
    let isLogged = false
    const write = (isAborted: boolean) => {
      if (isLogged) return
      isLogged = true
      // A connection lost before the answer was sent has no status yet.
      const status = response.headersSent ? response.statusCode : null
      const line = {
        request_id: requestIdOf(response),
        method: request.method,
        route: routePatternOf(response),
        status,
        duration_ms: Number(process.hrtime.bigint() - startedAt) / 1e6,
        ...(isAborted ? {aborted: true} : {}),
      }
      if (status !== null && status >= 500) logger.error(line, 'request')
      else if (isAborted) logger.warn(line, 'request')
      else logger.info(line, 'request')
    }
    response.once('finish', () => write(false))
    response.once('close', () => write(!response.writableFinished))
    next()
  }
}
