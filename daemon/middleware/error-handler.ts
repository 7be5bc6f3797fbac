import type {ErrorRequestHandler} from 'express'
import {describeErrorForLog, describeHttpFailure} from '../http-errors.js'
import type {Logger} from '../logger.js'
import {requestIdOf, routePatternOf} from '../request-state.js'

/**
 * The one error handler: every thrown or forwarded error becomes the JSON error body with
 * its status. Server faults are logged with their cause; the response never carries a stack.
 */
export function errorHandler({logger}: {logger: Logger}): ErrorRequestHandler {
  return (error, request, response, _next) => {
    const requestId = requestIdOf(response)
    const failure = describeHttpFailure(error, requestId)
    if (failure.isServerFault) {
      logger.error({request_id: requestId, method: request.method, route: routePatternOf(response), err: describeErrorForLog(error)}, 'request failed')
    }
    if (response.headersSent) {
      // Too late for an error body: cut the connection so the client sees a failure, not a truncated success.
      request.socket.destroy()
      return
    }
    response.status(failure.status).set(failure.headers).json(failure.body)
  }
}
