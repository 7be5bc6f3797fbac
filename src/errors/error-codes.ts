/**
 * The one table of error codes. Each code has a category; each face maps a category once
 * (the CLI to an exit code, the daemon to an HTTP status). Tests assert on codes, so a code,
 * once published, never changes meaning.
 */
export type ErrorCategory =
  | 'usage'
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'unauthenticated'
  | 'integrity'
  | 'unavailable'
  | 'internal'
  // Part of the work committed before an error stopped the rest (apply -f): distinct from every other exit code.
  | 'partial'

export const ERROR_CODES = {
  'validation.failed': 'invalid',
  'config.invalid': 'usage',
  'db.unsupported_url': 'usage',
  'db.unreachable': 'unavailable',
  'db.busy': 'unavailable',
  'db.conflict': 'conflict',
  'http.headers_too_large': 'invalid',
  'db.migrations_pending': 'unavailable',
  'db.nothing_to_migrate': 'conflict',
  'org.not_found': 'not_found',
  'org.slug_taken': 'conflict',
  'org.deleted': 'forbidden',
  'org.not_deleted': 'conflict',
  'user.not_found': 'not_found',
  'user.email_taken': 'conflict',
  'user.disabled': 'forbidden',
  'user.is_last_owner': 'forbidden',
  'member.not_found': 'not_found',
  'member.exists': 'conflict',
  'member.last_owner': 'forbidden',
  'role.not_found': 'not_found',
  'role.key_taken': 'conflict',
  'role.builtin_immutable': 'forbidden',
  'role.in_use': 'conflict',
  'permission.unknown': 'invalid',
  'flag.not_found': 'not_found',
  'flag.key_taken': 'conflict',
  'audit.chain_broken': 'integrity',
  // audit verify: the signed head names events the chain no longer ends with.
  'audit.events_cut': 'integrity',
  // A checkpoint of the audit chain whose HMAC does not verify under the secret key.
  'audit.checkpoint_invalid': 'integrity',
  // Events and no signed head checkpoint: a cut from the end cannot be ruled out.
  'audit.checkpoint_missing': 'integrity',
  // audit verify --head: the chain does not hold the head kept elsewhere.
  'audit.head_not_found': 'integrity',
  // audit verify (SQLite, where every append signs): more events after the signed head than the checkpoint interval explains.
  'audit.unsigned_events': 'integrity',
  'confirmation.required': 'usage',
  'auth.invalid_credentials': 'unauthenticated',
  'auth.invalid_token': 'unauthenticated',
  'auth.invalid_refresh_token': 'unauthenticated',
  'auth.refresh_token_reused': 'unauthenticated',
  'auth.invalid_client': 'unauthenticated',
  // The OAuth endpoints (/v1/oauth/*), answered in RFC 6749's form: a grant_type other than refresh_token,
  // a token kind that cannot be revoked there (API keys), a scope (the daemon grants none).
  'oauth.unsupported_grant_type': 'usage',
  'oauth.unsupported_token_type': 'usage',
  'oauth.invalid_scope': 'usage',
  'auth.not_a_member': 'forbidden',
  // A member whose token is bound to another organization.
  'auth.org_mismatch': 'forbidden',
  // The principal lacks the permission the action needs.
  'permission.denied': 'forbidden',
  // A role at or above the granter's own level (only owners may), or a member who ranks at or above them.
  'role.grant_forbidden': 'forbidden',
  // A permission put into a custom role or an API key that its creator does not hold.
  'permission.not_held': 'forbidden',
  // Only operators and platform principals may do this (tier, domain, owner, direct adds, user administration).
  'platform.required': 'forbidden',
  'org.creation_disabled': 'forbidden',
  'org.domain_taken': 'conflict',
  // Body, header and host name different organizations.
  'tenant.ambiguous': 'invalid',
  'apikey.not_found': 'not_found',
  'apikey.name_taken': 'conflict',
  'session.not_found': 'not_found',
  'job.not_found': 'not_found',
  'key.not_found': 'not_found',
  // Failed logins, 2FA codes or tokens beyond the limit, or a locked account: 429 with Retry-After.
  'auth.too_many_attempts': 'unavailable',
  'auth.email_not_verified': 'forbidden',
  // The org requires 2FA and the user has none.
  'auth.mfa_enrollment_required': 'forbidden',
  'auth.invalid_mfa_token': 'unauthenticated',
  'auth.invalid_mfa_code': 'unauthenticated',
  // core.sessions.login (scripts, tests) for an account with 2FA on; over HTTP the login answers mfa_required instead.
  'auth.mfa_required': 'unauthenticated',
  'auth.invalid_link_token': 'invalid',
  'registration.closed': 'forbidden',
  'password.too_weak': 'invalid',
  // POST /v1/auth/verify-email/resend when the address is already verified.
  'email.already_verified': 'conflict',
  'mfa.already_enabled': 'conflict',
  'mfa.not_enabled': 'conflict',
  'mfa.setup_required': 'conflict',
  'mail.not_found': 'not_found',
  'mail.not_failed': 'conflict',
  // `mail test`: the transport refused or could not be reached (the mail stays queued for retry).
  'mail.delivery_failed': 'unavailable',
  'invitation.not_found': 'not_found',
  // A pending invitation for this address already exists in the organization (resend it instead).
  'invitation.exists': 'conflict',
  // The signed-in user's verified email is not the invited address.
  'invitation.email_mismatch': 'forbidden',
  // An account with the invited address exists: sign in as it to accept.
  'invitation.sign_in_required': 'unauthenticated',
  // Only pending invitations can be resent or revoked.
  'invitation.not_pending': 'conflict',
  // A resend within a minute of the invitation's last mail: 429 with Retry-After.
  'invitation.resend_too_soon': 'unavailable',
  // The organization mailed invitation_mails_per_day invitations (created plus resent) in the last 24 hours: 429 with Retry-After.
  'invitation.daily_limit': 'unavailable',
  // The organization's seats (members plus pending invitations) are all taken: the state of the org, not the caller's rights.
  'org.seat_limit': 'conflict',
  'webhook.not_found': 'not_found',
  'webhook.delivery_not_found': 'not_found',
  // A replay of a delivery that is still pending (it goes out anyway).
  'webhook.delivery_pending': 'conflict',
  // The endpoint's address is private, loopback, link-local … (SSRF guard; webhook_allow_private allows it), or does not resolve.
  'webhook.url_refused': 'invalid',
  // The organization (or the instance) has webhook_max_endpoints_per_org endpoints already: the state of the scope, not the caller's rights.
  'webhook.limit_reached': 'conflict',
  // `webhook test`: the receiver did not answer 2xx (the result is in the details).
  'webhook.delivery_failed': 'unavailable',
  'internal.error': 'internal',
  // The daemon's HTTP layer; the status of those whose category does not say it is set in daemon/http-errors.ts.
  'http.bad_request': 'usage',
  'http.malformed_json': 'usage',
  'http.unsupported_media_type': 'usage',
  'http.payload_too_large': 'invalid',
  'http.not_found': 'not_found',
  'http.method_not_allowed': 'usage',
  'http.rate_limited': 'unavailable',
  'daemon.listen_failed': 'unavailable',
  // serve: the database or config file can be read by group or others (--allow-insecure-files overrides).
  'daemon.insecure_file': 'forbidden',
  // Postgres without the secret_key setting, when a private key must be encrypted or read.
  'secret_key.required': 'usage',
  // The key file holds no 32-byte key, or a stored private key does not open with the secret key.
  'secret_key.invalid': 'integrity',
  // backup / restore (SQLite files).
  'backup.file_exists': 'conflict',
  'backup.unsupported': 'usage',
  'backup.not_found': 'not_found',
  // The directory the backup (or the restored database) would be written in does not exist.
  'backup.directory_missing': 'not_found',
  // Not a SQLite database, fails integrity_check, or not a saas-ctl database.
  'backup.invalid': 'invalid',
  // Made by a newer saas-ctl: it has run migrations this version does not know.
  'backup.too_new': 'invalid',
  // A daemon or a command has the database open.
  'restore.database_in_use': 'unavailable',
  'restore.secret_key_missing': 'conflict',
  'restore.target_unreadable': 'conflict',
  // The key file the restore would install (or keep) holds no 32-byte key.
  'restore.secret_key_invalid': 'invalid',
  // A file-system error (permissions, a full disk, a directory in the way) while writing the backup or the restored files.
  'backup.io_error': 'unavailable',
  'restore.io_error': 'unavailable',
  // `apply -f`: the file is not valid YAML/JSON, breaks the schema, or names what does not exist (every problem in details).
  'provisioning.invalid': 'invalid',
  // `apply -f`: the file cannot be read (missing, a directory, no permission).
  'provisioning.file_unreadable': 'not_found',
  // `apply -f` stopped by an error after some of its transactions committed (details: what committed, and the error).
  'provisioning.partially_applied': 'partial',
  // `tui` with stdin or stdout not a terminal (piped, redirected, cron): it draws a screen and reads keys.
  'tui.not_a_terminal': 'usage',
} as const satisfies Record<string, ErrorCategory>

export type ErrorCode = keyof typeof ERROR_CODES

export function categoryOf(code: ErrorCode): ErrorCategory {
  return ERROR_CODES[code]
}
