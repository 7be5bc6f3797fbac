import type {Generated, Insertable, Selectable, Updateable} from 'kysely'

/**
 * The one description of every table. Timestamps are ISO-8601 UTC strings in TypeScript on
 * both dialects (text in SQLite, timestamptz in Postgres, converted in open-database.ts);
 * booleans are integers 0/1 on both; JSON is text.
 */
export interface Database {
  user_account: UserAccountTable
  organization: OrganizationTable
  permission: PermissionTable
  role: RoleTable
  role_permission: RolePermissionTable
  membership: MembershipTable
  feature_flag: FeatureFlagTable
  flag_override: FlagOverrideTable
  audit_event: AuditEventTable
  audit_checkpoint: AuditCheckpointTable
  signing_key: SigningKeyTable
  session: SessionTable
  refresh_token: RefreshTokenTable
  revocation: RevocationTable
  job_lease: JobLeaseTable
  api_key: ApiKeyTable
  mail_outbox: MailOutboxTable
  one_time_token: OneTimeTokenTable
  auth_attempt: AuthAttemptTable
  account_lockout: AccountLockoutTable
  totp_credential: TotpCredentialTable
  recovery_code: RecoveryCodeTable
  known_device: KnownDeviceTable
  invitation: InvitationTable
  rate_limit_usage: RateLimitUsageTable
  webhook_endpoint: WebhookEndpointTable
  webhook_delivery: WebhookDeliveryTable
  webhook_attempt: WebhookAttemptTable
}

export interface UserAccountTable {
  id: string
  email: string
  name: string | null
  password_hash: string | null
  is_platform_admin: number
  email_verified_at: string | null
  password_changed_at: string | null
  disabled_at: string | null
  created_at: string
  updated_at: string
}

export interface OrganizationTable {
  id: string
  slug: string
  name: string
  tier: string
  created_at: string
  updated_at: string
  deleted_at: string | null
  /** A custom domain that names this organization at login (set by operators only); unique. */
  domain: string | null
  /** 1: members must have 2FA on to log in or switch into it. */
  require_2fa: Generated<number>
  /** Overrides the tier's seat limit (members plus pending invitations); null: the tier's; -1: unlimited. */
  seat_limit: number | null
  /** Overrides the tier's requests per minute; null: the tier's; -1: unlimited. */
  rpm_limit: number | null
}

export interface PermissionTable {
  key: string
  description: string
}

export interface RoleTable {
  id: string
  /** null for the built-in roles, which every organization shares. */
  org_id: string | null
  key: string
  name: string
  level: number
  is_builtin: number
  created_at: string
  updated_at: string
}

export interface RolePermissionTable {
  role_id: string
  permission_key: string
}

export interface MembershipTable {
  id: string
  org_id: string
  user_id: string
  role_id: string
  created_at: string
  updated_at: string
}

export interface FeatureFlagTable {
  id: string
  key: string
  description: string | null
  default_enabled: number
  rollout_percentage: number | null
  created_at: string
  updated_at: string
}

export interface FlagOverrideTable {
  flag_id: string
  org_id: string
  enabled: number
  created_at: string
  updated_at: string
}

export interface AuditEventTable {
  /** Position in the hash chain, assigned under the chain lock: 1, 2, 3, … */
  seq: number
  id: string
  action: string
  org_id: string | null
  actor_type: string
  actor_id: string | null
  actor_name: string | null
  target_type: string | null
  target_id: string | null
  /** JSON text. */
  metadata: string
  ip: string | null
  user_agent: string | null
  request_id: string | null
  created_at: string
  prev_hash: string
  hash: string
}

/** A signed checkpoint of the audit chain: `head` (the newest event when written) or `pruned` (the last event retention deleted). */
export interface AuditCheckpointTable {
  kind: 'head' | 'pruned'
  seq: number
  hash: string
  /** HMAC-SHA256 (hex) of kind, seq and hash under a key derived from the secret key. */
  mac: string
  created_at: string
}

export interface SigningKeyTable {
  kid: string
  algorithm: string
  /** JSON text. */
  public_jwk: string
  /** JSON text; never leaves the daemon's storage. */
  private_jwk: string
  created_at: string
  retired_at: string | null
}

export interface SessionTable {
  id: string
  user_id: string
  /** The organization the session's tokens are bound to, if any. */
  org_id: string | null
  user_agent: string | null
  ip: string | null
  created_at: string
  last_used_at: string
  expires_at: string
  revoked_at: string | null
  revoked_reason: string | null
}

export interface RefreshTokenTable {
  id: string
  session_id: string
  /** SHA-256 of the token; the token itself is never stored. */
  token_hash: string
  created_at: string
  expires_at: string
  /** Set when it was exchanged; presenting it again is reuse. */
  rotated_at: string | null
}

export interface RevocationTable {
  seq: number
  /** 'token' (subject: jti), 'session' (subject: session id) or 'user' (subject: user id, with not_before). */
  kind: string
  subject: string
  not_before: string | null
  reason: string
  created_at: string
  /** After this, every token the entry blocks has expired anyway; cleanup purges it. */
  expires_at: string
}

export interface JobLeaseTable {
  name: string
  /** The daemon that claimed the newest scheduled tick. */
  holder: string | null
  /** The newest scheduled tick claimed: each tick runs on one daemon only. */
  last_tick_at: string | null
  last_started_at: string | null
  last_finished_at: string | null
  last_result: string | null
}

export interface ApiKeyTable {
  id: string
  /** null: a platform key, which may act on every organization. */
  org_id: string | null
  name: string
  /** The visible start of the secret. */
  prefix: string
  /** SHA-256 of the secret; the secret is never stored. */
  secret_hash: string
  /** The key's role (its level and permissions, as the role is now), or null for a permission list. */
  role_id: string | null
  /** JSON array of permission keys, when the key has no role. */
  permissions: string | null
  created_by_type: string
  created_by_id: string | null
  created_at: string
  expires_at: string | null
  last_used_at: string | null
  revoked_at: string | null
}

/** An email on its way: written with the change that causes it, delivered by a job. */
export interface MailOutboxTable {
  id: string
  kind: string
  to_address: string
  user_id: string | null
  subject: string
  /** Text and HTML bodies as JSON, sealed with the secret key; null once sent. */
  body_sealed: string | null
  message_id: string
  status: 'pending' | 'sent' | 'failed'
  attempts: Generated<number>
  next_attempt_at: string
  claimed_by: string | null
  claimed_until: string | null
  last_error: string | null
  created_at: string
  sent_at: string | null
}

export type OneTimeTokenPurpose = 'verify_email' | 'password_reset' | 'mfa_login'

export interface OneTimeTokenTable {
  id: string
  purpose: OneTimeTokenPurpose
  user_id: string
  /** SHA-256 of the token (hashToken); the token is never stored. */
  token_hash: string
  email: string | null
  /** JSON text. */
  data: string | null
  created_at: string
  expires_at: string
  used_at: string | null
}

export interface AuthAttemptTable {
  id: string
  /** login | mfa | reset_token | verify_token | … */
  kind: string
  identifier_hash: string | null
  user_id: string | null
  ip: string | null
  user_agent: string | null
  /** pending: reserved, its secret still being checked. */
  outcome: 'success' | 'failure' | 'pending' | 'throttled' | 'locked'
  created_at: string
}

export interface AccountLockoutTable {
  identifier_hash: string
  user_id: string | null
  consecutive_failures: Generated<number>
  locked_until: string | null
  updated_at: string
}

export interface TotpCredentialTable {
  user_id: string
  secret_sealed: string
  confirmed_at: string | null
  last_used_step: number | null
  created_at: string
  updated_at: string
}

export interface RecoveryCodeTable {
  id: string
  user_id: string
  code_hash: string
  created_at: string
  used_at: string | null
}

export interface KnownDeviceTable {
  user_id: string
  fingerprint: string
  first_seen_at: string
  last_seen_at: string
}

/** Requests one daemon admitted for an organization in one minute window (shared rate limits). */
export interface RateLimitUsageTable {
  org_id: string
  /** Unique per daemon process. */
  daemon_id: string
  /** Milliseconds since the epoch (bigint in Postgres: read back as a string). */
  window_start: number | string
  used: number
}

/** An outgoing webhook endpoint: of one organization, or instance-wide (org_id null). */
export interface WebhookEndpointTable {
  id: string
  org_id: string | null
  url: string
  description: string | null
  /** JSON array of event types and families (`member.*`, `*`). */
  events: string
  /** Instance-wide endpoints: 1 also receives every organization's events. */
  include_all_orgs: number
  /** `whsec_…` sealed with the secret key. */
  secret_sealed: string
  previous_secret_sealed: string | null
  previous_expires_at: string | null
  disabled: number
  consecutive_failures: number
  breaker_state: 'closed' | 'open' | 'half_open'
  breaker_opened_at: string | null
  next_probe_at: string | null
  probe_holder: string | null
  probe_until: string | null
  created_at: string
  updated_at: string
}

/** One event on its way to one endpoint: written with the audit event, delivered by a worker. */
export interface WebhookDeliveryTable {
  id: string
  endpoint_id: string
  org_id: string | null
  event_id: string
  event_type: string
  /** The webhook-id header, stable per event and endpoint. */
  message_id: string
  /** The JSON body, exactly as sent. */
  payload: string
  status: 'pending' | 'succeeded' | 'failed'
  attempts: number
  next_attempt_at: string
  window_started_at: string | null
  claimed_by: string | null
  claimed_until: string | null
  last_status_code: number | null
  last_error: string | null
  created_at: string
  delivered_at: string | null
}

export interface WebhookAttemptTable {
  id: string
  delivery_id: string
  attempted_at: string
  duration_ms: number
  status_code: number | null
  error: string | null
  outcome: 'succeeded' | 'failed'
}

export type WebhookEndpointRow = Selectable<WebhookEndpointTable>
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>
export type WebhookAttemptRow = Selectable<WebhookAttemptTable>
/** An invitation to join an organization (src/invitations/): its link's token only as a hash. */
export interface InvitationTable {
  id: string
  org_id: string
  /** Trimmed and lowercased. */
  email: string
  role_id: string
  /** SHA-256 of the accept link's token (hashToken); the token is never stored. */
  token_hash: string
  invited_by_type: string
  invited_by_id: string | null
  invited_by_name: string | null
  /** A pending one past expires_at is expired (judged by the server's clock); 'expired' is stored once it is replaced. */
  status: 'pending' | 'accepted' | 'revoked' | 'expired'
  created_at: string
  expires_at: string
  /** When the newest link was mailed (creation or resend). */
  sent_at: string
  resend_count: Generated<number>
  accepted_at: string | null
  accepted_user_id: string | null
  revoked_at: string | null
}

export type InvitationRow = Selectable<InvitationTable>
export type MailOutboxRow = Selectable<MailOutboxTable>
export type OneTimeTokenRow = Selectable<OneTimeTokenTable>
export type ApiKeyRow = Selectable<ApiKeyTable>
export type SessionRow = Selectable<SessionTable>
export type RefreshTokenRow = Selectable<RefreshTokenTable>
export type RevocationRow = Selectable<RevocationTable>
export type SigningKeyRow = Selectable<SigningKeyTable>
export type UserAccountRow = Selectable<UserAccountTable>
export type OrganizationRow = Selectable<OrganizationTable>
export type RoleRow = Selectable<RoleTable>
export type MembershipRow = Selectable<MembershipTable>
export type FeatureFlagRow = Selectable<FeatureFlagTable>
export type AuditEventRow = Selectable<AuditEventTable>
export type AuditCheckpointRow = Selectable<AuditCheckpointTable>
export type NewAuditEvent = Insertable<AuditEventTable>
export type {Generated, Insertable, Selectable, Updateable}
