import {createHmac, randomBytes} from 'node:crypto'

const SECRET_PREFIX = 'whsec_'
const SECRET_BYTES = 32

/** A new endpoint secret: `whsec_` and 32 random bytes in base64 (the Standard Webhooks form). */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`
}

/** The HMAC key of a `whsec_…` secret: the bytes its base64 part encodes. */
function keyOfSecret(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64')
}

/**
 * The `webhook-signature` header of a message: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
 * under each secret, space-separated (during a rotation both the new and the old secret sign,
 * and a receiver holding either verifies). `timestampSeconds` is the `webhook-timestamp` value.
 */
export function signWebhookMessage(secrets: readonly string[], messageId: string, timestampSeconds: number, body: string): string {
  const content = `${messageId}.${timestampSeconds}.${body}`
  return secrets.map((secret) => `v1,${createHmac('sha256', keyOfSecret(secret)).update(content, 'utf8').digest('base64')}`).join(' ')
}
