import type {RequestHandler} from 'express'
import {DomainError} from '../../src/errors/domain-error.js'

/**
 * A request that carries a body must say it is JSON: anything else is refused with 415
 * before a byte of it is read. A request without a body passes, whatever its method.
 */
export function requireJsonBody(): RequestHandler {
  return (request, _response, next) => {
    if (!hasBody(request.headers) || request.is('application/json')) return next()
    next(new DomainError('http.unsupported_media_type', 'The request body must be JSON (Content-Type: application/json)'))
  }
}

function hasBody(headers: {'transfer-encoding'?: string; 'content-length'?: string}): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0')
}
