import {collectDefaultMetrics, Counter, Gauge, Histogram, Registry} from 'prom-client'

export type LoginOutcome =
  | 'success'
  | 'mfa_required'
  | 'invalid_credentials'
  | 'invalid_mfa_code'
  | 'invalid_mfa_token'
  | 'throttled'
  | 'email_not_verified'
  | 'mfa_enrollment_required'
  | 'org_not_found'
  | 'disabled'
  | 'invalid_input'
  | 'error'

const TOKEN_REJECTION_REASON = /^[a-z][a-z_]{0,39}$/

export interface MetricsSources {
  /** Read at every scrape; the gauge can also be set directly. */
  activeSessions?: () => number | Promise<number>
  /** Read at every scrape; the gauge can also be set directly. */
  revocationCacheEntries?: () => number | Promise<number>
}

export type Metrics = ReturnType<typeof createMetrics>

/**
 * The daemon's Prometheus metrics, on a registry of its own (never prom-client's global one,
 * so several apps can live in one process). HTTP metrics are labelled by route pattern, not
 * by URL, so the label set stays bounded.
 */
export function createMetrics(sources: MetricsSources = {}) {
  const registry = new Registry()
  collectDefaultMetrics({register: registry})
  const httpRequests = new Counter({
    name: 'saasctl_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  })
  const httpRequestDuration = new Histogram({
    name: 'saasctl_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  const loginTotal = new Counter({
    name: 'saasctl_login_total',
    help: 'Login attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  })
  const tokenRejections = new Counter({
    name: 'saasctl_token_rejections_total',
    help: 'Bearer credentials refused with 401 auth.invalid_token, by reason (missing, malformed, expired, bad_signature, token_revoked, …)',
    labelNames: ['reason'] as const,
    registers: [registry],
  })
  const activeSessions = new Gauge({
    name: 'saasctl_active_sessions',
    help: 'Sessions neither revoked nor expired',
    registers: [registry],
    async collect() {
      if (sources.activeSessions) this.set(await sources.activeSessions())
    },
  })
  const revocationCacheEntries = new Gauge({
    name: 'saasctl_revocation_cache_entries',
    help: 'Entries in the in-process revocation cache (tokens, sessions, users)',
    registers: [registry],
    async collect() {
      if (sources.revocationCacheEntries) this.set(await sources.revocationCacheEntries())
    },
  })
  return {
    registry,
    httpRequests,
    httpRequestDuration,
    loginTotal,
    tokenRejections,
    activeSessions,
    revocationCacheEntries,
    /** Counts one login attempt. */
    recordLogin(outcome: LoginOutcome): void {
      loginTotal.inc({outcome})
    },
    /** Counts one refused bearer credential; the reason is a fixed word, so the label set stays bounded. */
    recordTokenRejection(reason: string): void {
      tokenRejections.inc({reason: TOKEN_REJECTION_REASON.test(reason) ? reason : 'other'})
    },
    contentType: registry.contentType,
    /** The Prometheus text exposition of every metric. */
    render(): Promise<string> {
      return registry.metrics()
    },
  }
}
