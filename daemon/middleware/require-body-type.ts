import type {RequestHandler} from 'express'
import {DomainError} from '../../src/errors/domain-error.js'

export interface RequireBodyTypeOptions {
  /** The media types a body may have; the first is named in the refusal. Default: JSON only. */
  mediaTypes?: readonly string[]
}

const DESCRIPTIONS: Record<string, string> = {
  'application/json': 'JSON (Content-Type: application/json)',
  'application/x-www-form-urlencoded': 'form-encoded (Content-Type: application/x-www-form-urlencoded)',
}

/**
 * A request that carries a body must say it is of an accepted type (JSON, unless the route
 * also takes forms): anything else is refused with 415 before a byte of it is read. A request
 * without a body passes, whatever its method.
 */
export function requireBodyType({mediaTypes = ['application/json']}: RequireBodyTypeOptions = {}): RequestHandler {
  const accepted = [...mediaTypes]
  const message = `The request body must be ${accepted.map((type) => DESCRIPTIONS[type] ?? type).join(' or ')}`
  return (request, _response, next) => {
    if (!hasBody(request.headers) || request.is(accepted)) return next()
    next(new DomainError('http.unsupported_media_type', message))
  }
}

function hasBody(headers: {'transfer-encoding'?: string; 'content-length'?: string}): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0')
}
