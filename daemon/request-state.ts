import type {Request, Response} from 'express'

// What the daemon keeps about one request, on res.locals, behind these accessors: the
// request id (set first by the requestId middleware), the matched route pattern (set by
// the route registry; logs and metrics label by it, never by the raw URL) and how the matched
// route answers errors.

const REQUEST_ID = 'saasctlRequestId'
const ROUTE_PATTERN = 'saasctlRoutePattern'
const ERROR_FORMAT = 'saasctlErrorFormat'

/**
 * The shape of a route's error answers: the daemon's `{error: {code, message, details}, request_id}`,
 * or RFC 6749 §5.2's `{error, error_description}` (the OAuth endpoints).
 */
export type ErrorFormat = 'daemon' | 'oauth'

/** A route's error format, fixed or decided per request (e.g. by the dialect the client speaks). */
export type ErrorFormatChoice = ErrorFormat | ((request: Request) => ErrorFormat)

export function setRequestId(response: Response, requestId: string): void {
  response.locals[REQUEST_ID] = requestId
}

/** The request's id; empty only if the requestId middleware did not run. */
export function requestIdOf(response: Response): string {
  const value = response.locals[REQUEST_ID]
  return typeof value === 'string' ? value : ''
}

export function setRoutePattern(response: Response, pattern: string): void {
  response.locals[ROUTE_PATTERN] = pattern
}

/** The route pattern (`/v1/orgs/:org`) the request matched, or null when it matched none. */
export function routePatternOf(response: Response): string | null {
  const value = response.locals[ROUTE_PATTERN]
  return typeof value === 'string' ? value : null
}

export function setErrorFormat(response: Response, format: ErrorFormatChoice): void {
  response.locals[ERROR_FORMAT] = format
}

/** How the error of this request is answered: the matched route's choice, else the daemon's own form. */
export function errorFormatOf(request: Request, response: Response): ErrorFormat {
  const format = response.locals[ERROR_FORMAT] as ErrorFormatChoice | undefined
  if (format === undefined) return 'daemon'
  return typeof format === 'function' ? format(request) : format
}
