import {z} from 'zod'
import {decodeSecretKey} from '../security/secret-key.js'

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
    description: 'Bearer credential for POST /v1/tokens/introspect (unset: introspection refused)',
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
    schema: z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1')]),
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
