import {z} from 'zod'
import {decodeSecretKey} from '../security/secret-key.js'
import {isTrustProxyEntry, trustProxyEntries} from './trust-proxy.js'
import {tierLimitsSetting} from './tier-limits-setting.js'

/**
 * Every setting saas-ctl knows. Each one is read, in rising precedence, from its default,
 * the config file (its snake_case key), the environment (SAASCTL_<KEY>) and a command flag.
 * Adding a setting means adding one entry here.
 */
export interface SettingDefinition {
  /** snake_case: the config file key; SAASCTL_<UPPER> is its environment variable. */
  readonly key: string
  readonly description: string
  readonly schema: z.ZodType
  readonly defaultValue: unknown
  /** How to show the value in `saas-ctl config`: secrets never appear in full. */
  readonly redact?: (value: unknown) => unknown
}

/** true/false as a boolean (config file) or as text (environment, flags). */
const booleanSetting = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1')])

export const SETTINGS = {
  databaseUrl: {
    key: 'database_url',
    description: 'postgres://… selects Postgres; a file path or sqlite: URL selects SQLite',
    schema: z.string().trim().min(1, 'must not be empty'),
    defaultValue: './saas-ctl.db',
    redact: (value) => redactUrlPassword(String(value)),
  },
  host: {
    key: 'host',
    description: 'Address the daemon listens on',
    schema: z.string().trim().min(1),
    defaultValue: '127.0.0.1',
  },
  port: {
    key: 'port',
    description: 'Port the daemon listens on (0: any free port)',
    schema: z.coerce.number().int().min(0).max(65535),
    defaultValue: 4000,
  },
  issuer: {
    key: 'issuer',
    description: 'The iss claim and OpenID issuer URL (default: http://<host>:<port>)',
    schema: z.string().trim().url().optional(),
    defaultValue: undefined,
  },
  audience: {
    key: 'audience',
    description: 'The aud claim of access tokens',
    schema: z.string().trim().min(1),
    defaultValue: 'saas-ctl',
  },
  accessTokenTtlSeconds: {
    key: 'access_token_ttl_seconds',
    description: 'Lifetime of access tokens',
    schema: z.coerce.number().int().min(30).max(86_400),
    defaultValue: 900,
  },
  refreshTokenTtlSeconds: {
    key: 'refresh_token_ttl_seconds',
    description: 'Lifetime of refresh tokens (and idle sessions)',
    schema: z.coerce.number().int().min(60).max(31_536_000),
    defaultValue: 2_592_000,
  },
  sessionAbsoluteTtlSeconds: {
    key: 'session_absolute_ttl_seconds',
    description: 'Absolute lifetime of a session from its login, however often it refreshes (the sliding expiry never goes past it)',
    schema: z.coerce.number().int().min(60).max(315_360_000),
    defaultValue: 7_776_000,
  },
  maxSessionsPerUser: {
    key: 'max_sessions_per_user',
    description: 'Concurrent sessions per user; a login beyond revokes the oldest',
    schema: z.coerce.number().int().min(1).max(1000),
    defaultValue: 5,
  },
  introspectionSecret: {
    key: 'introspection_secret',
    description: 'The client secret of introspection (Bearer, HTTP Basic or client_secret) and of confidential clients at /v1/oauth/token and /v1/oauth/revoke (unset: introspection refused)',
    schema: z.string().min(16, 'must be at least 16 characters').optional(),
    defaultValue: undefined,
    redact: (value) => (value === undefined ? undefined : '***'),
  },
  secretKey: {
    key: 'secret_key',
    description: 'Encrypts private signing keys at rest: 32 bytes as 64 hex digits or base64 (required on Postgres; on SQLite unset means a 0600 key file <db>.secret-key)',
    schema: z
      .string()
      .trim()
      .refine((value) => decodeSecretKey(value) !== null, 'must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)')
      .optional(),
    defaultValue: undefined,
    redact: (value) => (value === undefined ? undefined : '***'),
  },
  metricsToken: {
    key: 'metrics_token',
    description: 'Bearer credential GET /metrics requires (unset: /metrics is open)',
    schema: z.string().min(16, 'must be at least 16 characters').optional(),
    defaultValue: undefined,
    redact: (value) => (value === undefined ? undefined : '***'),
  },
  corsOrigins: {
    key: 'cors_origins',
    description: 'Comma-separated origins allowed by CORS (none by default)',
    schema: z.union([z.array(z.string()), z.string()]).transform((value) => (Array.isArray(value) ? value : value.split(',')).map((origin) => origin.trim()).filter(Boolean)),
    defaultValue: [],
  },
  bodyLimitBytes: {
    key: 'body_limit_bytes',
    description: 'Largest accepted request body',
    schema: z.coerce.number().int().min(1024).max(10_485_760),
    defaultValue: 102_400,
  },
  revocationPollMs: {
    key: 'revocation_poll_ms',
    description: 'How often each daemon reads new revocations from the database',
    schema: z.coerce.number().int().min(50).max(10_000),
    defaultValue: 500,
  },
  cleanupSchedule: {
    key: 'cleanup_schedule',
    description: 'node-cron schedule of the cleanup job',
    schema: z.string().trim().min(1),
    defaultValue: '*/10 * * * *',
  },
  allowUserOrgCreation: {
    key: 'allow_user_org_creation',
    description: 'Whether signed-in users may create organizations over HTTP (POST /v1/orgs)',
    schema: booleanSetting,
    defaultValue: true,
  },
  baseDomain: {
    key: 'base_domain',
    description: 'Hosts under it name an organization by subdomain (acme.<base_domain> → acme) at login and switch-org',
    schema: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'must be a DNS name like app.example.com')
      .optional(),
    defaultValue: undefined,
  },
  publicUrl: {
    key: 'public_url',
    description: 'Where users reach the service: links in emails start with it (default: the issuer)',
    schema: z.string().trim().url().optional(),
    defaultValue: undefined,
  },
  smtpUrl: {
    key: 'smtp_url',
    description: 'smtp:// or smtps:// URL (with user:password) of the mail relay; unset: mails are written as .eml files into mail_dir',
    schema: z
      .string()
      .trim()
      .regex(/^smtps?:\/\//i, 'must be an smtp:// or smtps:// URL')
      .optional(),
    defaultValue: undefined,
    redact: (value) => (value === undefined ? undefined : redactUrlPassword(String(value))),
  },
  mailDir: {
    key: 'mail_dir',
    description: 'Where mails are written as .eml files when no smtp_url is set (default: saas-ctl-mail/ beside the SQLite database, else ./saas-ctl-mail/)',
    schema: z.string().trim().min(1).optional(),
    defaultValue: undefined,
  },
  mailFrom: {
    key: 'mail_from',
    description: 'The From address of every mail',
    schema: z.string().trim().min(3).max(320),
    defaultValue: 'saas-ctl <no-reply@localhost>',
  },
  mailMaxAttempts: {
    key: 'mail_max_attempts',
    description: 'Delivery attempts of a mail before it is parked as failed',
    schema: z.coerce.number().int().min(1).max(100),
    defaultValue: 8,
  },
  mailRetryBaseSeconds: {
    key: 'mail_retry_base_seconds',
    description: 'Wait before the first retry of a mail; doubled after each failed attempt, capped at 1 hour, ±20 % jitter',
    schema: z.coerce.number().int().min(1).max(3_600),
    defaultValue: 30,
  },
  mailPollMs: {
    key: 'mail_poll_ms',
    description: 'How often each daemon looks for mail due for delivery',
    schema: z.coerce.number().int().min(50).max(600_000),
    defaultValue: 1_000,
  },
  registration: {
    key: 'registration',
    description: 'Self-registration: open, invite_only (only by accepting an invitation) or closed (invitations cannot create accounts either)',
    schema: z.enum(['open', 'invite_only', 'closed']),
    defaultValue: 'open',
  },
  requireVerifiedEmail: {
    key: 'require_verified_email',
    description: 'Refuse login until the email address is verified',
    schema: booleanSetting,
    defaultValue: false,
  },
  emailVerificationTtlSeconds: {
    key: 'email_verification_ttl_seconds',
    description: 'Lifetime of an email verification link',
    schema: z.coerce.number().int().min(60).max(2_592_000),
    defaultValue: 86_400,
  },
  passwordResetTtlSeconds: {
    key: 'password_reset_ttl_seconds',
    description: 'Lifetime of a password reset link',
    schema: z.coerce.number().int().min(60).max(86_400),
    defaultValue: 3_600,
  },
  mfaTokenTtlSeconds: {
    key: 'mfa_token_ttl_seconds',
    description: 'Lifetime of the mfa_token between a 2FA login\'s password step and its code step',
    schema: z.coerce.number().int().min(30).max(3_600),
    defaultValue: 300,
  },
  totpIssuer: {
    key: 'totp_issuer',
    description: 'The issuer name authenticator apps show beside the account (otpauth:// URI of 2FA setup)',
    schema: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters').refine((value) => !value.includes(':'), 'must not contain a colon'),
    defaultValue: 'saas-ctl',
  },
  failedAttemptsPerMinute: {
    key: 'failed_attempts_per_minute',
    description: 'Failed logins per account and IP (and failed 2FA codes, wrong reset or verification tokens per IP) allowed in a minute; beyond: 429 auth.too_many_attempts',
    schema: z.coerce.number().int().min(1).max(100_000),
    defaultValue: 5,
  },
  lockoutThreshold: {
    key: 'lockout_threshold',
    description: 'Consecutive failed logins or 2FA codes that lock an account',
    schema: z.coerce.number().int().min(1).max(100_000),
    defaultValue: 10,
  },
  lockoutSeconds: {
    key: 'lockout_seconds',
    description: 'How long a locked account stays locked',
    schema: z.coerce.number().int().min(1).max(31_536_000),
    defaultValue: 900,
  },
  attemptRetentionDays: {
    key: 'attempt_retention_days',
    description: 'Recorded login and code attempts are purged after this many days',
    schema: z.coerce.number().int().min(1).max(3650),
    defaultValue: 90,
  },
  trustProxy: {
    key: 'trust_proxy',
    description: 'Take the client IP from X-Forwarded-For: a number of proxy hops, or comma-separated proxy addresses/CIDRs (loopback, linklocal, uniquelocal name those ranges) (unset: the socket address)',
    schema: z
      .union([
        z.coerce.number().int().min(0).max(10),
        z
          .string()
          .trim()
          .min(1)
          .refine((value) => trustProxyEntries(value).length > 0 && trustProxyEntries(value).every(isTrustProxyEntry), 'must be a number of hops, or comma-separated IP addresses, CIDRs or loopback/linklocal/uniquelocal'),
      ])
      .optional(),
    defaultValue: undefined,
  },
  invitationTtlSeconds: {
    key: 'invitation_ttl_seconds',
    description: 'Lifetime of an invitation (its accept link); a resend starts it again',
    schema: z.coerce.number().int().min(300).max(7_776_000),
    defaultValue: 604_800,
  },
  invitationMailsPerDay: {
    key: 'invitation_mails_per_day',
    description: 'Invitation mails (created plus resent) the members and API keys of an organization may send per 24 hours; operators and platform principals are not held to it, their mails count (0: no limit)',
    schema: z.coerce.number().int().min(0).max(1_000_000),
    defaultValue: 100,
  },
  tierSeats: {
    key: 'tier_seats',
    description: 'Seats (members plus pending invitations) per tier, as tier=N pairs naming every tier; "unlimited" for none',
    schema: tierLimitsSetting,
    defaultValue: 'free=5,basic=25,premium=100,enterprise=unlimited',
  },
  tierRpm: {
    key: 'tier_rpm',
    description: 'Requests per minute per organization per tier, as tier=N pairs naming every tier; "unlimited" for none',
    schema: tierLimitsSetting,
    defaultValue: 'free=300,basic=1200,premium=6000,enterprise=30000',
  },
  rateLimitAuthRpm: {
    key: 'rate_limit_auth_rpm',
    description: 'Requests per minute per client IP to the anonymous auth routes (login, register, token, password reset, invitations) (0: no limit)',
    schema: z.coerce.number().int().min(0).max(10_000_000),
    defaultValue: 60,
  },
  rateLimitPublicRpm: {
    key: 'rate_limit_public_rpm',
    description: 'Requests per minute per client IP to the other anonymous routes (JWKS, discovery, account pages, docs) (0: no limit)',
    schema: z.coerce.number().int().min(0).max(10_000_000),
    defaultValue: 600,
  },
  rateLimitSyncMs: {
    key: 'rate_limit_sync_ms',
    description: 'How often each daemon shares its request counts with the others on the same database (the tolerance of the limits across daemons)',
    schema: z.coerce.number().int().min(100).max(60_000),
    defaultValue: 1_000,
  },
  webhookAllowPrivate: {
    key: 'webhook_allow_private',
    description: 'Allow webhook endpoints on private, loopback and link-local addresses (refused by default against SSRF)',
    schema: booleanSetting,
    defaultValue: false,
  },
  webhookTimeoutMs: {
    key: 'webhook_timeout_ms',
    description: 'How long a webhook delivery waits for the receiver to answer',
    schema: z.coerce.number().int().min(100).max(60_000),
    defaultValue: 10_000,
  },
  webhookRetryBaseSeconds: {
    key: 'webhook_retry_base_seconds',
    description: 'Wait before the first retry of a webhook delivery; doubled after each failure, capped at 1 hour, ±20 % jitter; retried for up to webhook_retry_window_seconds',
    schema: z.coerce.number().int().min(1).max(3_600),
    defaultValue: 10,
  },
  webhookRetryWindowSeconds: {
    key: 'webhook_retry_window_seconds',
    description: 'How long a webhook delivery is retried before it is parked as failed',
    schema: z.coerce.number().int().min(1).max(604_800),
    defaultValue: 86_400,
  },
  webhookBreakerThreshold: {
    key: 'webhook_breaker_threshold',
    description: 'Consecutive failed deliveries that open an endpoint\'s circuit breaker',
    schema: z.coerce.number().int().min(1).max(10_000),
    defaultValue: 10,
  },
  webhookBreakerCooldownSeconds: {
    key: 'webhook_breaker_cooldown_seconds',
    description: 'How long an open circuit breaker waits before one probe delivery (half-open)',
    schema: z.coerce.number().int().min(1).max(86_400),
    defaultValue: 60,
  },
  webhookMaxEndpointsPerOrg: {
    key: 'webhook_max_endpoints_per_org',
    description: 'Webhook endpoints an organization may have (and instance-wide endpoints, counted on their own); every audited change writes one delivery per subscribed endpoint',
    schema: z.coerce.number().int().min(1).max(1_000),
    defaultValue: 20,
  },
  webhookPollMs: {
    key: 'webhook_poll_ms',
    description: 'How often each daemon looks for webhook deliveries due',
    schema: z.coerce.number().int().min(50).max(600_000),
    defaultValue: 1_000,
  },
  auditRetentionDays: {
    key: 'audit_retention_days',
    description: 'Audit events older than this are pruned, the rest stays verifiable from a signed checkpoint (unset: kept forever)',
    schema: z.coerce.number().int().min(1).max(36_500).optional(),
    defaultValue: undefined,
  },
  auditCheckpointInterval: {
    key: 'audit_checkpoint_interval',
    description: 'Sign the audit chain head every N events (1: on every append); events after the last checkpoint can be cut unseen',
    schema: z.coerce.number().int().min(1).max(100_000),
    defaultValue: 1,
  },
  logLevel: {
    key: 'log_level',
    description: 'Log level of the daemon',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    defaultValue: 'info',
  },
} as const satisfies Record<string, SettingDefinition>

export type SettingName = keyof typeof SETTINGS
export type Config = {[Name in SettingName]: z.output<(typeof SETTINGS)[Name]['schema']>}

export function environmentVariableOf(setting: SettingDefinition): string {
  return `SAASCTL_${setting.key.toUpperCase()}`
}

/** A URL with its password (in the userinfo or a password/passfile query parameter) replaced by ***. */
function redactUrlPassword(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    for (const key of [...parsed.searchParams.keys()]) if (/pass/i.test(key)) parsed.searchParams.set(key, '***')
    return parsed.toString()
  } catch {
    return '*** (unparseable URL)'
  }
}
