import type {Response} from 'express'

// What the daemon keeps about one request, on res.locals, behind these accessors: the
// request id (set first by the requestId middleware) and the matched route pattern (set by
// the route registry; logs and metrics label by it, never by the raw URL).

const REQUEST_ID = 'saasctlRequestId'
const ROUTE_PATTERN = 'saasctlRoutePattern'

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
