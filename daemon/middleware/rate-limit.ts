import type {NextFunction, Request, RequestHandler, Response} from 'express'
import type {Principal} from '../../src/access/principal.js'
import {DomainError} from '../../src/errors/domain-error.js'
import type {AuthContext} from '../../src/identity/token-authenticator.js'
import {clientKeyOf} from '../../src/rate-limit/client-key.js'
import type {ClientRateLimitGroup, RateLimitDecision, RateLimiter, RateLimitGroup} from '../../src/rate-limit/rate-limiter.js'
import {ACCOUNT_PAGE_CSP} from '../account-page-html.js'
import type {AnyRoute} from '../openapi/route.js'

// Anonymous routes under these prefixes sign in, hand out or check tokens, or take invitations:
// guessing targets, so they draw from the stricter `auth` budget.
const AUTH_PATH = /^\/v1\/(auth|oauth|invitations)(\/|$)/

/**
 * The budget a route draws from: what it declares, else `org` when it authenticates its
 * caller, `auth` for anonymous routes under /v1/auth, /v1/oauth and /v1/invitations and for
 * anonymous writes (the account pages' forms), `public` for other anonymous reads.
 */
export function rateLimitGroupOf(route: Pick<AnyRoute, 'rateLimit' | 'auth' | 'method' | 'path'>): RateLimitGroup {
  if (route.rateLimit) return route.rateLimit
  if (route.auth === 'access_token' || route.auth === 'principal') return 'org'
  return AUTH_PATH.test(route.path) || route.method !== 'get' ? 'auth' : 'public'
}

/** Who the request authenticated as: the principal (auth 'principal') or the token's caller (auth 'access_token'). */
export interface AuthenticatedCaller {
  principal?: Principal
  caller?: AuthContext
}

export interface RateLimitOptions {
  limiter: RateLimiter
  /** Reads who the request authenticated as (set by the mounting code before this runs). */
  authenticatedCallerOf: (response: Response) => AuthenticatedCaller
}

/**
 * The request budget of one route, checked after authentication and before the body is read
 * or the handler runs: a refused request (429 http.rate_limited with Retry-After) does
 * nothing. Authenticated requests draw from their organization's bucket — the org of the API
 * key, or the one the access token is bound to; a token bound to none, or whose binding was
 * voided since (the member removed), draws from its IP's `public` bucket, and so does a caller
 * whose org no longer exists (purged): never unlimited; platform keys (the operator's credential) are not limited. Anonymous
 * requests draw from their IP's bucket of the route's group. Every limited answer carries
 * RateLimit-Limit, -Remaining, -Reset (seconds until the bucket is full) and -Policy.
 * Returns null for a route that draws from no bucket.
 */
export function rateLimitFor(route: AnyRoute, options: RateLimitOptions): RequestHandler | null {
  const group = rateLimitGroupOf(route)
  if (group === 'none') return null
  const {limiter} = options
  // Pages for people (the account pages) are refused with a page, never with the API's JSON.
  const refuse = Object.values(route.responses).some((spec) => spec.contentType?.startsWith('text/html')) ? refuseWithPage : refuseWithError
  const answer = (decision: RateLimitDecision | null, response: Response, next: NextFunction) => answerWith(decision, response, next, refuse)
  if (group !== 'org') {
    return (request, response, next) => {
      answer(limiter.takeForClient(group, clientKeyOfRequest(request)), response, next)
    }
  }
  return (request, response, next) => {
    const budget = budgetOf(options.authenticatedCallerOf(response))
    if (budget.kind === 'none') return next()
    if (budget.kind === 'client') return answer(limiter.takeForClient(budget.group, clientKeyOfRequest(request)), response, next)
    const decision = limiter.takeForOrg(budget.orgId, clientKeyOfRequest(request))
    // The org's limit is cached: only its first request (and one every few seconds) waits for a read.
    if (decision instanceof Promise) return decision.then((loaded) => answer(loaded, response, next))
    answer(decision, response, next)
  }
}

type Budget = {kind: 'org'; orgId: string} | {kind: 'client'; group: ClientRateLimitGroup} | {kind: 'none'}

function budgetOf({principal, caller}: AuthenticatedCaller): Budget {
  if (principal?.kind === 'api_key') return principal.orgId ? {kind: 'org', orgId: principal.orgId} : {kind: 'none'}
  // A token whose org binding was voided (the member was removed) no longer speaks for the org.
  if (principal?.kind === 'user') return principal.boundOrgId && !principal.isOrgBindingRevoked ? {kind: 'org', orgId: principal.boundOrgId} : {kind: 'client', group: 'public'}
  if (caller) return caller.orgId && !caller.isOrgBindingRevoked ? {kind: 'org', orgId: caller.orgId} : {kind: 'client', group: 'public'}
  return {kind: 'client', group: 'public'}
}

/**
 * What a refused credential (401) on a route costs: one token of the client IP's `auth` bucket,
 * so requests with bad credentials are limited like sign-in attempts (they never reach the
 * route's own bucket, which is checked after authentication). Once the bucket is empty the
 * answer is 429 http.rate_limited instead of the 401. Routes that draw from no bucket (probes,
 * server-to-server routes) charge nothing.
 */
export function failedAuthenticationLimitFor(route: AnyRoute, {limiter}: Pick<RateLimitOptions, 'limiter'>): ((request: Request, response: Response) => void) | null {
  if (rateLimitGroupOf(route) === 'none') return null
  return (request, response) => {
    const decision = limiter.takeForClient('auth', clientKeyOfRequest(request))
    if (!decision) return
    setRateLimitHeaders(decision, response)
    if (!decision.isAllowed) refuseWithError(decision)
  }
}

/** The client's bucket key: its address (trust_proxy decides which), an IPv6 one by its /64. */
function clientKeyOfRequest(request: Request): string {
  return clientKeyOf(request.ip ?? request.socket.remoteAddress ?? 'unknown')
}

type Refusal = (decision: RateLimitDecision, response: Response) => void

function answerWith(decision: RateLimitDecision | null, response: Response, next: NextFunction, refuse: Refusal): void {
  if (!decision) return next()
  setRateLimitHeaders(decision, response)
  if (decision.isAllowed) return next()
  refuse(decision, response)
}

function setRateLimitHeaders(decision: RateLimitDecision, response: Response): void {
  response.setHeader('RateLimit-Limit', String(decision.limit))
  response.setHeader('RateLimit-Remaining', String(decision.remaining))
  response.setHeader('RateLimit-Reset', String(decision.resetSeconds))
  response.setHeader('RateLimit-Policy', `${decision.limit};w=60`)
}

/** The daemon's error answer (or OAuth's, on its routes), through the error handler. */
function refuseWithError(decision: RateLimitDecision): void {
  throw new DomainError('http.rate_limited', `Too many requests: the limit is ${decision.limit} per minute; retry in ${decision.retryAfterSeconds} s`, {
    limit: decision.limit,
    retry_after_seconds: decision.retryAfterSeconds,
  })
}

/** A plain page with the same status and headers, under the account pages' strict policy (no script, nothing loaded). */
function refuseWithPage(decision: RateLimitDecision, response: Response): void {
  response
    .status(429)
    .set({'Retry-After': String(decision.retryAfterSeconds), 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'Content-Security-Policy': ACCOUNT_PAGE_CSP})
    .type('html')
    .send(
      `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Too many requests</title>\n</head>\n<body>\n<main>\n<h1>Too many requests</h1>\n<p>Too many requests came from your network. Try again in ${decision.retryAfterSeconds} seconds.</p>\n</main>\n</body>\n</html>\n`,
    )
}
