import type {ErrorRequestHandler} from 'express'
import {describeErrorForLog, describeHttpFailure} from '../http-errors.js'
import type {Logger} from '../logger.js'
import type {Metrics} from '../metrics.js'
import {describeOAuthFailure} from '../oauth-errors.js'
import {errorFormatOf, requestIdOf, routePatternOf} from '../request-state.js'

/**
 * The one error handler: every thrown or forwarded error becomes the JSON error body with
 * its status (in RFC 6749's form on the routes that speak OAuth's dialect). Server faults are
 * logged with their cause; the response never carries a stack.
 * A refused bearer (auth.invalid_token) is logged at info with its reason and counted.
 */
export function errorHandler({logger, metrics}: {logger: Logger; metrics?: Metrics}): ErrorRequestHandler {
  return (error, request, response, _next) => {
    const requestId = requestIdOf(response)
    const failure = describeHttpFailure(error, requestId)
    if (failure.tokenRejectionReason !== null) {
      // Every refused bearer answers the same 401; why it was refused is only logged (never the token) and counted.
      metrics?.recordTokenRejection(failure.tokenRejectionReason)
      logger.info({request_id: requestId, method: request.method, route: routePatternOf(response), reason: failure.tokenRejectionReason}, 'bearer token refused')
    }
    if (failure.isServerFault) {
      logger.error({request_id: requestId, method: request.method, route: routePatternOf(response), err: describeErrorForLog(error)}, 'request failed')
    }
    if (response.headersSent) {
      // Too late for an error body: cut the connection so the client sees a failure, not a truncated success.
      request.socket.destroy()
      return
    }
    const answer = errorFormatOf(request, response) === 'oauth' ? describeOAuthFailure(failure, request) : failure
    response.status(answer.status).set(answer.headers).json(answer.body)
  }
}
