import express, {type Express} from 'express'
import type {Config} from '../src/config/settings.js'
import {parseTrustProxy} from '../src/config/trust-proxy.js'
import type {Core} from '../src/core.js'
import {createOrgRateLimits} from '../src/rate-limit/org-rate-limits.js'
import {createRateLimiter, type RateLimiter} from '../src/rate-limit/rate-limiter.js'
import {readBearerToken} from './bearer-token.js'
import type {Logger} from './logger.js'
import {createMetrics, type Metrics} from './metrics.js'
import {accessLog} from './middleware/access-log.js'
import {cors} from './middleware/cors.js'
import {errorHandler} from './middleware/error-handler.js'
import {httpMetrics} from './middleware/http-metrics.js'
import {notFound} from './middleware/not-found.js'
import {createOpenStreams, type OpenStreams} from './open-streams.js'
import {failedAuthenticationLimitFor, rateLimitFor} from './middleware/rate-limit.js'
import {requestId} from './middleware/request-id.js'
import {securityHeaders} from './middleware/security-headers.js'
import {authenticatedCallerOf} from './openapi/mount-routes.js'
import type {AnyRoute} from './openapi/route.js'
import {createRouteRegistry, type RouteRegistry} from './openapi/route-registry.js'
import {adminUserRoutes} from './routes/admin-users.js'
import {apiKeyRoutes} from './routes/api-keys.js'
import {accountRoutes} from './routes/account.js'
import {accountPageRoutes} from './routes/account-pages.js'
import {authRoutes} from './routes/auth.js'
import {docsRoutes} from './routes/docs.js'
import {invitationPageRoutes} from './routes/invitation-pages.js'
import {invitationRoutes} from './routes/invitations.js'
import {memberRoutes} from './routes/members.js'
import {orgLimitRoutes} from './routes/org-limits.js'
import {oauthRoutes} from './routes/oauth.js'
import {mfaRoutes} from './routes/mfa.js'
import {orgAuditRoutes} from './routes/org-audit.js'
import {orgAuditStreamRoutes} from './routes/org-audit-stream.js'
import {orgFlagRoutes} from './routes/org-flags.js'
import {orgRoutes} from './routes/orgs.js'
import {roleRoutes} from './routes/roles.js'
import {tenantRoutes} from './routes/tenants.js'
import {tokenRoutes} from './routes/tokens.js'
import {wellKnownRoutes} from './routes/well-known.js'
import {webhookRoutes} from './routes/webhooks.js'
import {systemRoutes} from './routes/system.js'

export interface CreateAppOptions {
  core: Core
  config: Config
  logger: Logger
  /** Default: fresh metrics on a registry of their own, the revocation cache size read at each scrape. */
  metrics?: Metrics
  /** Routes besides the built-in ones (tests add their own here). */
  routes?: AnyRoute[]
  /** The version shown in /openapi.json. */
  version?: string
  /** Check every JSON response against its declared schema; a mismatch answers 500 (for tests). */
  checkResponses?: boolean
  /** Default: the request budgets of config (tier_rpm, rate_limit_*_rpm), in this process only; startDaemon shares them. */
  rateLimiter?: RateLimiter
}

export interface DaemonApp {
  app: Express
  metrics: Metrics
  registry: RouteRegistry
  /** Long-lived responses (the audit event stream), ended first at shutdown. */
  openStreams: OpenStreams
  /** The request budgets the routes draw from (startDaemon shares their use with other daemons). */
  rateLimiter: RateLimiter
}

/** Builds the daemon's express app, without listening: tests run it in-process. */
export function createApp(options: CreateAppOptions): DaemonApp {
  const {core, config, logger} = options
  const metrics = options.metrics ?? createMetrics({revocationCacheEntries: () => core.revocations.size(), activeSessions: () => core.sessions.countActiveSessions()})
  const openStreams = createOpenStreams()
  const registry = createRouteRegistry({
    title: 'saas-ctl',
    version: options.version ?? '0.0.0',
    description: 'Identity daemon of saas-ctl: accounts, sessions, tokens and revocation. JSON in and out, snake_case fields.',
  })
  registry.add(
    ...systemRoutes({db: core.database.db, metrics, metricsToken: config.metricsToken}),
    ...docsRoutes({registry}),
    ...wellKnownRoutes({core}),
    ...authRoutes({core, metrics}),
    ...accountRoutes({core}),
    ...accountPageRoutes({core}),
    ...mfaRoutes({core}),
    ...tokenRoutes({core}),
    ...oauthRoutes({core}),
    ...tenantRoutes({core}),
    ...adminUserRoutes({core}),
    ...apiKeyRoutes({core}),
    ...orgRoutes({core}),
    ...memberRoutes({core}),
    ...invitationRoutes({core}),
    ...invitationPageRoutes({core}),
    ...orgLimitRoutes({core}),
    ...roleRoutes({core}),
    ...orgFlagRoutes({core}),
    ...orgAuditRoutes({core}),
    ...orgAuditStreamRoutes({core, openStreams}),
    ...webhookRoutes({core}),
    ...(options.routes ?? []),
  )

  const app = express()
  app.disable('x-powered-by')
  // trust_proxy: express takes the client IP (request.ip: attempts, sessions, audit) from
  // X-Forwarded-For only through the proxies trusted here; unset, it is the socket's address.
  app.set('trust proxy', parseTrustProxy(config.trustProxy))
  // ETags hash every JSON body; API responses here are per-caller and not revalidated.
  app.set('etag', false)
  app.use(requestId())
  app.use(accessLog({logger}))
  app.use(httpMetrics({metrics}))
  app.use(securityHeaders())
  app.use(cors({allowedOrigins: config.corsOrigins}))
  const rateLimiter =
    options.rateLimiter ??
    createRateLimiter({
      clock: core.clock,
      orgLimits: createOrgRateLimits({db: core.database.db, tiers: core.tiers, clock: core.clock}),
      authRpm: config.rateLimitAuthRpm,
      publicRpm: config.rateLimitPublicRpm,
    })
  const router = express.Router()
  registry.mount(router, {
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    authenticate: (request) => core.authenticator.authenticate(readBearerToken(request)),
    authenticatePrincipal: (request) => core.bearer.authenticate(readBearerToken(request)),
    checkResponses: options.checkResponses,
    rateLimit: (route) => rateLimitFor(route, {limiter: rateLimiter, authenticatedCallerOf}),
    rateLimitFailedAuthentication: (route) => failedAuthenticationLimitFor(route, {limiter: rateLimiter}),
  })
  app.use(router)
  app.use(notFound())
  app.use(errorHandler({logger, metrics}))
  return {app, metrics, registry, rateLimiter, openStreams}
}
