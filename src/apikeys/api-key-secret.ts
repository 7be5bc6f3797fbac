import {generateOpaqueToken, hashToken} from '../security/secure-token.js'
import {API_KEY_PREFIX} from '../access/bearer-authenticator.js'

/** 32 random bytes (256 bits), base64url: 43 characters after the `sk_`. */
const SECRET_BYTES = 32
const SECRET_PATTERN = /^sk_[A-Za-z0-9_-]{43}$/
/** `sk_` and 7 characters of the secret: enough to tell keys apart in a list, too few to help guess one. */
const VISIBLE_PREFIX_LENGTH = 10

/** A new API key secret: `sk_` + 256 random bits, base64url. Shown once, never stored. */
export function generateApiKeySecret(): string {
  return `${API_KEY_PREFIX}${generateOpaqueToken(SECRET_BYTES)}`
}

/** How a secret is stored and looked up: SHA-256 hex (the secret has 256 bits, so a fast hash suffices). */
export function hashApiKeySecret(secret: string): string {
  return hashToken(secret)
}

/** The visible start of a secret, kept to tell keys apart. */
export function visiblePrefixOf(secret: string): string {
  return secret.slice(0, VISIBLE_PREFIX_LENGTH)
}

/** Whether a string has the shape of a secret this product issues (checked before any lookup). */
export function isWellFormedApiKeySecret(secret: string): boolean {
  return SECRET_PATTERN.test(secret)
}
