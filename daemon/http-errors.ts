import type {ErrorCategory, ErrorCode} from '../src/errors/error-codes.js'
import {translateDatabaseError} from '../src/db/database-errors.js'
import {DomainError, isDomainError} from '../src/errors/domain-error.js'
import {toJsonShape} from '../src/shared/json-shape.js'

/**
 * The one mapping of error categories to HTTP statuses.
 *
 * The rule for input: a request the server cannot read as meant is 400 (`usage`: malformed
 * JSON, a bad header); a request it read whose content breaks an input rule is 422
 * (`invalid`: `validation.failed` for body, query and path alike, `permission.unknown`).
 */
const STATUS_BY_CATEGORY: Record<ErrorCategory, number> = {
  usage: 400,
  invalid: 422,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  integrity: 500,
  internal: 500,
  // CLI only (apply -f); never an HTTP answer.
  partial: 500,
}

/** The HTTP-only codes whose status their category does not say. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  'http.payload_too_large': 413,
  'http.unsupported_media_type': 415,
  'http.method_not_allowed': 405,
  'http.rate_limited': 429,
  'auth.too_many_attempts': 429,
  'invitation.resend_too_soon': 429,
  'invitation.daily_limit': 429,
}

export interface ErrorBody {
  error: {code: string; message: string; details: unknown}
  request_id: string
}

export interface HttpFailure {
  status: number
  body: ErrorBody
  headers: Record<string, string>
  /** True for failures that are the server's fault: logged with their cause. */
  isServerFault: boolean
  /**
   * Why a bearer credential was refused (auth.invalid_token): for the log and the
   * saasctl_token_rejections_total counter only, never the response. Null for other failures.
   */
  tokenRejectionReason: string | null
}

/** The one message of every bearer-token 401: the reason is logged and counted, never answered. */
export const INVALID_TOKEN_MESSAGE = 'The bearer token is missing, invalid, expired or revoked'

export const INTERNAL_ERROR_MESSAGE = 'Internal server error'

/** Any thrown value as the status, headers and JSON body the daemon answers with. Never a stack trace. */
export function describeHttpFailure(error: unknown, requestId: string): HttpFailure {
  const domainError = toDomainError(error)
  const status = statusOf(domainError)
  const headers: Record<string, string> = {}
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer realm="saas-ctl"'
  if (domainError.code === 'auth.invalid_token') {
    // One answer for every refusal (missing, malformed, expired, revoked, …): a client learns
    // nothing about which check its token failed.
    const reason = (domainError.details as {reason?: unknown} | undefined)?.reason
    return {
      status,
      headers,
      body: {error: {code: domainError.code, message: INVALID_TOKEN_MESSAGE, details: null}, request_id: requestId},
      isServerFault: false,
      tokenRejectionReason: typeof reason === 'string' ? reason : 'unspecified',
    }
  }
  const retryAfter = (domainError.details as {retry_after_seconds?: unknown} | undefined)?.retry_after_seconds
  if (status === 429 && typeof retryAfter === 'number') headers['Retry-After'] = String(retryAfter)
  const message = domainError.category === 'internal' ? INTERNAL_ERROR_MESSAGE : domainError.message
  const details = domainError.category === 'internal' ? null : (toJsonShape(domainError.details) ?? null)
  return {
    status,
    headers,
    body: {error: {code: domainError.code, message, details}, request_id: requestId},
    isServerFault: status >= 500,
    tokenRejectionReason: null,
  }
}

export function statusOf(error: DomainError): number {
  return STATUS_BY_CODE[error.code] ?? STATUS_BY_CATEGORY[error.category]
}

/**
 * Domain errors pass through; the client errors express and its body parser raise (a 4xx
 * status) become http.* codes with fixed messages; anything else is internal.
 */
function toDomainError(error: unknown): DomainError {
  if (isDomainError(error)) return error
  const databaseError = translateDatabaseError(error)
  if (databaseError) return databaseError
  const httpError = asClientHttpError(error)
  if (!httpError) return new DomainError('internal.error', INTERNAL_ERROR_MESSAGE)
  switch (httpError.type) {
    case 'entity.parse.failed':
      return new DomainError('http.malformed_json', 'The request body is not valid JSON')
    case 'entity.too.large':
      return new DomainError('http.payload_too_large', 'The request body is too large', {limit_bytes: httpError.limit ?? null})
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new DomainError('http.unsupported_media_type', 'The request body must be UTF-8 JSON (Content-Type: application/json)')
    default:
      if (httpError.status === 404) return new DomainError('http.not_found', 'Not found')
      if (httpError.status === 413) return new DomainError('http.payload_too_large', 'The request body is too large')
      if (httpError.status === 415) return new DomainError('http.unsupported_media_type', 'Unsupported media type')
      return new DomainError('http.bad_request', 'The request could not be read')
  }
}

interface ClientHttpError {
  status: number
  type?: string
  limit?: number
}

function asClientHttpError(error: unknown): ClientHttpError | null {
  if (error === null || typeof error !== 'object') return null
  const candidate = error as {expose?: unknown; status?: unknown; statusCode?: unknown; type?: unknown; limit?: unknown}
  const status = typeof candidate.status === 'number' ? candidate.status : candidate.statusCode
  // http-errors mark client errors with expose; the router's undecodable path parameter is a URIError with status 400.
  const isClientError = candidate.expose === true || error instanceof URIError
  if (!isClientError || typeof status !== 'number' || status < 400 || status >= 500) return null
  return {
    status,
    type: typeof candidate.type === 'string' ? candidate.type : undefined,
    limit: typeof candidate.limit === 'number' ? candidate.limit : undefined,
  }
}

/**
 * What the logs may say about an unexpected error: its name, code, message and stack, and
 * those of its causes. Only these fields: drivers attach others (query parameters, row
 * values) that can hold secrets.
 */
export function describeErrorForLog(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return {type: typeof error}
  const code = (error as {code?: unknown}).code
  const described: Record<string, unknown> = {type: error.name, message: error.message, stack: error.stack}
  if (typeof code === 'string' || typeof code === 'number') described.code = code
  if (error.cause !== undefined && depth < 3) described.cause = describeErrorForLog(error.cause, depth + 1)
  return described
}
