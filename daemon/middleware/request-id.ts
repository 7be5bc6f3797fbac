import {randomUUID} from 'node:crypto'
import type {RequestHandler} from 'express'
import {setRequestId} from '../request-state.js'

export interface RequestIdOptions {
  header?: string
  maxLength?: number
  generate?: () => string
}

/**
 * Gives every request an id: a sane incoming one (up to maxLength of [A-Za-z0-9._-]) is kept
 * so a caller can correlate; anything else is replaced by a fresh UUID. Echoed in the response.
 */
export function requestId({header = 'X-Request-Id', maxLength = 128, generate = randomUUID}: RequestIdOptions = {}): RequestHandler {
  const sane = new RegExp(`^[A-Za-z0-9._-]{1,${maxLength}}$`)
  return (request, response, next) => {
    const incoming = request.get(header)
    const id = incoming !== undefined && sane.test(incoming) ? incoming : generate()
    setRequestId(response, id)
    response.setHeader(header, id)
    next()
  }
}
