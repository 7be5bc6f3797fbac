import type {RequestHandler} from 'express'
import {DomainError} from '../../src/errors/domain-error.js'

const MAX_PATH_IN_MESSAGE = 200

/** The last handler: no route matched. */
export function notFound(): RequestHandler {
  return (request, _response, next) => {
    const path = request.path.length > MAX_PATH_IN_MESSAGE ? `${request.path.slice(0, MAX_PATH_IN_MESSAGE)}…` : request.path
    next(new DomainError('http.not_found', `No route ${request.method} ${path}`))
  }
}
