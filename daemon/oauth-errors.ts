import type {Request} from 'express'
import type {ErrorCode} from '../src/errors/error-codes.js'
import type {HttpFailure} from './http-errors.js'

/** RFC 6749 §5.2 (and RFC 7009 §2.2.1): the error body of the OAuth endpoints. */
export interface OAuthErrorBody {
  error: string
  error_description: string
}

export interface OAuthFailure {
  status: number
  body: OAuthErrorBody
  headers: Record<string, string>
}

/** The daemon's codes that have an OAuth name of their own; others go by their status. */
const OAUTH_ERROR_BY_CODE: Partial<Record<ErrorCode, string>> = {
  'auth.invalid_client': 'invalid_client',
  'oauth.unsupported_grant_type': 'unsupported_grant_type',
  'oauth.unsupported_token_type': 'unsupported_token_type',
  'oauth.invalid_scope': 'invalid_scope',
  // The refresh grant: an unknown, expired or reused refresh token, or a session bound to an
  // organization the user has left, is a grant that no longer holds.
  'auth.invalid_refresh_token': 'invalid_grant',
  'auth.refresh_token_reused': 'invalid_grant',
  'org.not_found': 'invalid_grant',
}

/**
 * The daemon's answer to a failure (see describeHttpFailure) in RFC 6749 §5.2's form: the same
 * status (400 where the daemon says 422: RFC 6749 has no other status for bad input, and 400
 * for invalid_grant), headers (Retry-After, Allow) and message, never cached. invalid_client
 * is 401 with a challenge in the scheme the client tried (Basic, unless it sent a Bearer).
 */
export function describeOAuthFailure(failure: HttpFailure, request: Request): OAuthFailure {
  const code = failure.body.error.code as ErrorCode
  const error = OAUTH_ERROR_BY_CODE[code] ?? oauthErrorOfStatus(failure.status)
  const headers: Record<string, string> = {...failure.headers, 'Cache-Control': 'no-store', Pragma: 'no-cache'}
  delete headers['WWW-Authenticate']
  let status = failure.status === 422 || (error === 'invalid_grant' && failure.status < 500) ? 400 : failure.status
  if (error === 'invalid_client') {
    status = 401
    headers['WWW-Authenticate'] = /^\s*bearer\b/i.test(request.get('Authorization') ?? '') ? 'Bearer realm="saas-ctl"' : 'Basic realm="saas-ctl"'
  }
  return {status, headers, body: {error, error_description: toErrorDescription(failure.body.error.message)}}
}

function oauthErrorOfStatus(status: number): string {
  if (status === 401) return 'invalid_client'
  if (status === 503) return 'temporarily_unavailable'
  if (status >= 500) return 'server_error'
  if (status === 403 || status === 404) return 'invalid_grant'
  return 'invalid_request'
}

/** RFC 6749 allows only printable ASCII but `"` and `\` in error_description (%x20-21 / %x23-5B / %x5D-7E). */
function toErrorDescription(message: string): string {
  return message
    .replace(/[\u2018\u2019\u201c\u201d"]/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, '?')
}
