/** Why an access token was refused. Stable: the daemon maps these to responses and logs. */
export type AccessTokenFailureReason =
  | 'malformed'
  | 'bad_signature'
  | 'expired'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'unknown_key'
  | 'bad_algorithm'
  /** exp − iat exceeds the configured lifetime: a revocation entry, kept that long, might not outlive it. */
  | 'lifetime_exceeded'
  /** iat lies further ahead of the clock than the leeway: such a token would outlive every revocation entry. */
  | 'issued_in_future'

/**
 * A refused access token. The message never contains the token or its claims; callers
 * should answer every reason the same way to the client (401) and only log the reason.
 */
export class AccessTokenError extends Error {
  readonly reason: AccessTokenFailureReason

  constructor(reason: AccessTokenFailureReason, message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'AccessTokenError'
    this.reason = reason
  }
}

export function isAccessTokenError(error: unknown): error is AccessTokenError {
  return error instanceof AccessTokenError
}
