import {isDeepStrictEqual} from 'node:util'
import type {NextFunction, Request, RequestHandler, Response, Router} from 'express'
import type {z} from 'zod'
import {DomainError, isDomainError} from '../../src/errors/domain-error.js'
import type {Principal} from '../../src/access/principal.js'
import type {AuthContext} from '../../src/identity/token-authenticator.js'
import {toCamelShape, toJsonShape, toSnakeCase} from '../../src/shared/json-shape.js'
import type {Logger} from '../logger.js'
import {formBody} from '../middleware/form-body.js'
import {jsonBody} from '../middleware/json-body.js'
import {requireBodyType} from '../middleware/require-body-type.js'
import {requestIdOf, setErrorFormat, setRoutePattern, type ErrorFormatChoice} from '../request-state.js'
import {BODY_MEDIA_TYPES, type AnyRoute, type HttpMethod, type RouteResult} from './route.js'

export interface MountOptions {
  logger: Logger
  bodyLimitBytes: number
  /** Resolves the caller of routes with `auth: 'access_token'`; raises an `unauthenticated` DomainError. */
  authenticate?: (request: Request) => Promise<AuthContext>
  /** Resolves the principal of routes with `auth: 'principal'` (access token or API key); raises an `unauthenticated` DomainError. */
  authenticatePrincipal?: (request: Request) => Promise<Principal>
  /** Check every JSON response against its declared schema (tests): a mismatch or an undeclared field is a 500. */
  checkResponses?: boolean
  /**
   * The request budget of a route (daemon/middleware/rate-limit.ts), run after authentication
   * and before the body is read; null: the route draws from none.
   */
  rateLimit?: (route: AnyRoute) => RequestHandler | null
  /**
   * What a failed authentication of a route costs (daemon/middleware/rate-limit.ts): charges
   * the client's budget and throws (http.rate_limited) instead of the 401 once it is spent;
   * null: nothing.
   */
  rateLimitFailedAuthentication?: (route: AnyRoute) => FailedAuthenticationCharge | null
}

/** Charges one failed authentication of a request; throws to answer with its own refusal instead. */
export type FailedAuthenticationCharge = (request: Request, response: Response) => void

type ValidationLocation = 'path' | 'query' | 'body'

interface ValidationProblem {
  in: ValidationLocation
  field: string | null
  message: string
}

/**
 * Mounts routes on a router, grouped by path. Each route runs: content type check, caller
 * authentication (a refused credential charged first, see rateLimitFailedAuthentication), its request budget (rate limit), body parsing (JSON, and forms where the route takes them), validation of path, query and body (all problems in one
 * 422 validation.failed), the handler, and the response. Other methods on a known path get
 * 405 with Allow (OPTIONS: 204 with Allow).
 */
export function mountRoutes(router: Router, routes: readonly AnyRoute[], options: MountOptions): void {
  const byPath = new Map<string, AnyRoute[]>()
  for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route])
  const checkJsonContentType = requireBodyType()
  const parseBody = jsonBody({limitBytes: options.bodyLimitBytes})
  const parseForm = formBody({limitBytes: options.bodyLimitBytes})
  for (const [path, pathRoutes] of byPath) {
    const expressRoute = router.route(path)
    for (const route of pathRoutes) {
      if (route.auth === 'access_token' && !options.authenticate) throw new Error(`${route.method.toUpperCase()} ${path} requires a token but no authenticator is configured`)
      if (route.auth === 'principal' && !options.authenticatePrincipal) throw new Error(`${route.method.toUpperCase()} ${path} requires a principal but no authenticator is configured`)
      const formats = route.bodyFormats ?? ['json']
      const takesForm = formats.includes('form')
      const checkContentType = takesForm ? requireBodyType({mediaTypes: formats.map((format) => BODY_MEDIA_TYPES[format])}) : checkJsonContentType
      const chain: RequestHandler[] = [markRoute(path, route.errorFormat), checkContentType]
      const chargeFailure = options.rateLimitFailedAuthentication?.(route) ?? null
      if (route.auth === 'access_token') chain.push(authenticateCaller(options.authenticate!, chargeFailure))
      if (route.auth === 'principal') chain.push(authenticatePrincipal(options.authenticatePrincipal!, chargeFailure))
      const limitRequests = options.rateLimit?.(route)
      if (limitRequests) chain.push(limitRequests)
      chain.push(parseBody, ...(takesForm ? [parseForm] : []), handleRoute(route, options))
      expressRoute[route.method](...chain)
    }
    // Another method on a path whose routes all answer in OAuth's form answers in it too.
    const pathErrorFormat = pathRoutes.every((route) => route.errorFormat === 'oauth') ? 'oauth' : undefined
    expressRoute.all(markRoute(path, pathErrorFormat), refuseOtherMethods(pathRoutes.map((route) => route.method)))
  }
}

function markRoute(pattern: string, errorFormat: ErrorFormatChoice | undefined): RequestHandler {
  return (_request, response, next) => {
    setRoutePattern(response, pattern)
    if (errorFormat !== undefined) setErrorFormat(response, errorFormat)
    next()
  }
}

const CALLER = Symbol('saasctl.caller')
const PRINCIPAL = Symbol('saasctl.principal')

/** Who the request authenticated as, once its route's authentication ran (for the rate limit). */
export function authenticatedCallerOf(response: Response): {principal?: Principal; caller?: AuthContext} {
  const locals = response.locals as Record<symbol, unknown>
  return {principal: locals[PRINCIPAL] as Principal | undefined, caller: locals[CALLER] as AuthContext | undefined}
}

function authenticateCaller(authenticate: (request: Request) => Promise<AuthContext>, chargeFailure: FailedAuthenticationCharge | null): RequestHandler {
  return async (request, response, next) => {
    ;(response.locals as Record<symbol, unknown>)[CALLER] = await charged(authenticate(request), request, response, chargeFailure)
    next()
  }
}

function authenticatePrincipal(authenticate: (request: Request) => Promise<Principal>, chargeFailure: FailedAuthenticationCharge | null): RequestHandler {
  return async (request, response, next) => {
    ;(response.locals as Record<symbol, unknown>)[PRINCIPAL] = await charged(authenticate(request), request, response, chargeFailure)
    next()
  }
}

/** An authentication's result; a refused credential (401) is charged first, and that may answer instead (429). */
async function charged<T>(authentication: Promise<T>, request: Request, response: Response, chargeFailure: FailedAuthenticationCharge | null): Promise<T> {
  try {
    return await authentication
  } catch (error) {
    if (chargeFailure && isDomainError(error) && error.category === 'unauthenticated') chargeFailure(request, response)
    throw error
  }
}

function handleRoute(route: AnyRoute, options: MountOptions): RequestHandler {
  return async (request: Request, response: Response) => {
    const problems: ValidationProblem[] = []
    const params = parsePart(route.params, request.params, 'path', problems)
    // Services take camelCase input; the wire is snake_case (see toCamelShape, and the field
    // names of validation problems below, converted back).
    const query = parsePart(route.query, toCamelShape(request.query), 'query', problems)
    const body = route.body && request.body === undefined ? missingBody(problems) : parsePart(route.body, toCamelShape(request.body), 'body', problems)
    if (problems.length > 0) throw validationFailed(problems)
    const requestId = requestIdOf(response)
    const client = {ip: request.ip ?? null, userAgent: request.get('User-Agent') ?? null, requestId}
    const principal = (response.locals as Record<symbol, unknown>)[PRINCIPAL] as Principal | undefined
    const result = await route.handle({
      body,
      query,
      params,
      caller: ((response.locals as Record<symbol, unknown>)[CALLER] as AuthContext | undefined) ?? null,
      actor: principal ? {principal, origin: client} : null,
      client,
      requestId,
      // Built on use: few handlers log, and a pino child per request costs on the hot path.
      get log() {
        return options.logger.child({request_id: requestId})
      },
      request,
      response,
    })
    sendResult(route, result, response, options)
  }
}

function parsePart(schema: z.ZodType | undefined, value: unknown, location: ValidationLocation, problems: ValidationProblem[]): unknown {
  if (!schema) return undefined
  // No text of ours may hold NUL: Postgres refuses it (a 500 there), SQLite would store it.
  const nulField = findNulCharacter(value)
  if (nulField) {
    problems.push({in: location, field: nulField.map(toSnakeCase).join('.') || null, message: 'must not contain the NUL character'})
    return undefined
  }
  const result = schema.safeParse(value)
  if (result.success) return result.data
  for (const issue of result.error.issues) problems.push({in: location, field: issue.path.map((segment) => toSnakeCase(String(segment))).join('.') || null, message: issue.message})
  return undefined
}

function missingBody(problems: ValidationProblem[]): undefined {
  problems.push({in: 'body', field: null, message: 'a request body is required'})
  return undefined
}

const LOCATION_NAMES: Record<ValidationLocation, string> = {path: 'path parameter ', query: 'query parameter ', body: ''}

function validationFailed(problems: ValidationProblem[]): DomainError {
  const first = problems[0]!
  const message = first.field ? `Invalid ${LOCATION_NAMES[first.in]}${first.field}: ${first.message}` : `Invalid ${first.in === 'body' ? 'request body' : `${first.in}`}: ${first.message}`
  return new DomainError('validation.failed', message, {problems})
}

function sendResult(route: AnyRoute, result: RouteResult, response: Response, options: MountOptions): void {
  if (result.isStreamed) return
  const status = result.status ?? defaultStatus(route)
  if (result.headers) response.set(result.headers)
  if (result.body === undefined || status === 204 || status === 304) {
    response.status(status).end()
    return
  }
  if (result.contentType && !/json/i.test(result.contentType)) {
    response.status(status).type(result.contentType).send(String(result.body))
    return
  }
  const body = result.rawJson ? result.body : toJsonShape(result.body)
  if (options.checkResponses) checkResponse(route, status, body)
  response.status(status).json(body)
}

/** The first 2xx status the route declares. */
export function defaultStatus(route: AnyRoute): number {
  const declared = Object.keys(route.responses).map(Number).filter((status) => status >= 200 && status < 300).sort((a, b) => a - b)
  return declared[0] ?? 200
}

function checkResponse(route: AnyRoute, status: number, body: unknown): void {
  const spec = route.responses[status]
  const where = `${route.method.toUpperCase()} ${route.path}`
  if (!spec) throw new Error(`${where} answered ${status}, which it does not declare`)
  if (!spec.schema) return
  // Checked as the client receives it; a field the schema does not declare (a leak, or drift) fails too.
  const wire: unknown = JSON.parse(JSON.stringify(body))
  const result = spec.schema.safeParse(wire)
  if (!result.success) throw new Error(`${where} answered a ${status} body that does not match its schema: ${JSON.stringify(result.error.issues)}`)
  if (!isDeepStrictEqual(result.data, wire)) throw new Error(`${where} answered a ${status} body with fields its schema does not declare`)
}

function refuseOtherMethods(methods: HttpMethod[]): RequestHandler {
  const allowed = [...new Set(methods.map((method) => method.toUpperCase()))]
  if (allowed.includes('GET')) allowed.push('HEAD')
  const allow = allowed.join(', ')
  return (request: Request, response: Response, next: NextFunction) => {
    response.setHeader('Allow', allow)
    if (request.method === 'OPTIONS') {
      response.status(204).end()
      return
    }
    next(new DomainError('http.method_not_allowed', `${request.method} is not allowed here (allowed: ${allow})`, {allowed}))
  }
}

/**
 * Where the first string holding U+0000 is in a parsed JSON value: [] for the value itself,
 * else its top-level field; null when there is none. Iterative, since bodies may nest deeply.
 */
function findNulCharacter(value: unknown): string[] | null {
  const pending: [unknown, string[]][] = [[value, []]]
  while (pending.length > 0) {
    const [current, field] = pending.pop()!
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return field
    } else if (current !== null && typeof current === 'object') {
      for (const [key, inner] of Object.entries(current)) pending.push([inner, field.length === 0 ? [key] : field])
    }
  }
  return null
}
