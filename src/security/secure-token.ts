import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'

/**
 * Below 128 bits a token could be guessed online given enough attempts; refuse to make one.
 */
const MIN_TOKEN_BYTES = 16

/**
 * Returns `bytes` bytes (default 32, i.e. 256 bits) from the OS CSPRNG, base64url-encoded
 * without padding, so the token is safe in URLs, headers and cookies as is.
 * Throws RangeError for fewer than 16 bytes or a non-integer count.
 */
export function generateOpaqueToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_TOKEN_BYTES) {
    throw new RangeError(`an opaque token needs an integer of at least ${MIN_TOKEN_BYTES} bytes`)
  }
  return randomBytes(bytes).toString('base64url')
}

/**
 * The form in which an opaque token (refresh token, API key, invitation, reset link) is
 * stored: lowercase hex SHA-256. Tokens carry at least 128 bits of entropy, so a fast hash
 * is enough; a database leak does not yield usable tokens.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/**
 * Compares two secrets in time that depends on neither their contents nor their lengths:
 * both sides are reduced to SHA-256 digests of equal length before a constant-time compare.
 */
export function timingSafeEqualStrings(a: string, b: string): boolean {
  const digestOfA = createHash('sha256').update(a, 'utf8').digest()
  const digestOfB = createHash('sha256').update(b, 'utf8').digest()
  return timingSafeEqual(digestOfA, digestOfB)
}
