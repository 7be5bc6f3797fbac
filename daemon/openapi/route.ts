import type {Request, Response} from 'express'
import type {z} from 'zod'
import type {Actor} from '../../src/access/principal.js'
import type {RequestContext} from '../../src/identity/session-service.js'
import type {AuthContext} from '../../src/identity/token-authenticator.js'
import type {RateLimitGroup} from '../../src/rate-limit/rate-limiter.js'
import type {Logger} from '../logger.js'
import type {ErrorFormatChoice} from '../request-state.js'

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete'

/**
 * `access_token`: a valid Bearer access token is required; the handler gets its caller.
 * `principal`: a Bearer access token or API key (`sk_…`); the handler gets the acting `actor`
 * (principal and origin), which it hands to the service that decides what it may do.
 */
export type AuthMode = 'none' | 'access_token' | 'principal'

/** How a body may come: JSON (every route) and, for the OAuth endpoints, form-encoded (RFC 6749 §3.2). */
export type BodyFormat = 'json' | 'form'

export const BODY_MEDIA_TYPES: Readonly<Record<BodyFormat, string>> = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
}

export interface ResponseSpec {
  description: string
  /** The response body, in its JSON shape (snake_case). Checked at run time when the app is built with checkResponses. */
  schema?: z.ZodType
  /** Default application/json. */
  contentType?: string
}

type Parsed<Schema> = Schema extends z.ZodType ? z.output<Schema> : undefined
type CallerOf<Auth> = Auth extends 'access_token' ? AuthContext : null
type ActorOf<Auth> = Auth extends 'principal' ? Actor : null

export interface RouteContext<Body, Query, Params, Caller, RouteActor = null> {
  /** The validated body, query and path parameters (undefined when the route declares none). */
  body: Body
  query: Query
  params: Params
  /** The authenticated caller when the route requires a token, else null. */
  caller: Caller
  /** The acting principal and the request origin when the route's auth is 'principal', else null. */
  actor: RouteActor
  /** Where the request came from, as services record it on sessions and audit events. */
  client: RequestContext & {requestId: string}
  requestId: string
  /** A child of the daemon's logger carrying the request id. */
  log: Logger
  /** For what the context does not carry (headers); prefer the validated fields. */
  request: Request
  response: Response
}

export interface RouteResult {
  /** Default: the first 2xx status the route declares. */
  status?: number
  /** Sent as JSON with its keys converted to snake_case (see rawJson), or as-is with a non-JSON contentType. */
  body?: unknown
  headers?: Record<string, string>
  /** A non-JSON body (text/plain, text/html): the body must be a string. */
  contentType?: string
  /** Send the JSON body with its keys as they are (documents with their own key conventions, e.g. OpenAPI). */
  rawJson?: boolean
  /**
   * The handler took over `response` (a stream, e.g. Server-Sent Events): it has sent the
   * status and headers, writes the body and ends it; nothing more is sent. Document the
   * route's 200 with its contentType (e.g. text/event-stream) and no schema.
   */
  isStreamed?: boolean
}

export interface RouteSpec<BodySchema, QuerySchema, ParamsSchema, Auth extends AuthMode> {
  method: HttpMethod
  /** Express path syntax (`/v1/orgs/:org/members`); rendered as `/v1/orgs/{org}/members` in OpenAPI. */
  path: string
  summary: string
  description?: string
  tags?: string[]
  operationId?: string
  auth?: Auth
  body?: BodySchema
  /** The body's accepted formats; default ['json']. A form body is validated by the same schema (its fields are strings). */
  bodyFormats?: readonly BodyFormat[]
  /** How errors are answered; default 'daemon'. A function decides per request (e.g. by the dialect the client speaks). */
  errorFormat?: ErrorFormatChoice
  query?: QuerySchema
  params?: ParamsSchema
  /** Every status the route answers with on success; error statuses are documented for every route. */
  responses: Record<number, ResponseSpec>
  /**
   * Which request budget the route draws from (see rateLimitGroupOf in daemon/middleware/rate-limit.ts):
   * default `org` for authenticated routes, `auth` for anonymous sign-in, token and invitation
   * routes and anonymous writes, `public` for other anonymous reads; `none` for no limit.
   */
  rateLimit?: RateLimitGroup
  /** Left out of /openapi.json (e.g. the docs page itself). */
  isHidden?: boolean
  handle(context: RouteContext<Parsed<BodySchema>, Parsed<QuerySchema>, Parsed<ParamsSchema>, CallerOf<Auth>, ActorOf<Auth>>): RouteResult | Promise<RouteResult>
}

export type AnyRoute = RouteSpec<any, any, any, AuthMode>

/**
 * Declares a route once: method, path, documentation, schemas and handler. The registry mounts
 * it with validation and documents it in /openapi.json from the same schemas.
 */
export function defineRoute<
  BodySchema extends z.ZodType | undefined = undefined,
  QuerySchema extends z.ZodType | undefined = undefined,
  ParamsSchema extends z.ZodType | undefined = undefined,
  Auth extends AuthMode = 'none',
>(spec: RouteSpec<BodySchema, QuerySchema, ParamsSchema, Auth>): AnyRoute {
  return spec as AnyRoute
}
