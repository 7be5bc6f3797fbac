import {createCipheriv, createDecipheriv, randomBytes} from 'node:crypto'

/** Marks a value sealed by sealText; anything else was stored in the clear. */
const SEALED_PREFIX = 'enc:v1:'
const IV_BYTES = 12
const TAG_BYTES = 16

/**
 * Encrypts `plaintext` with AES-256-GCM (node:crypto) under the 32-byte `key`. `context` is
 * bound as additional data (e.g. `signing_key:<kid>`), so a sealed value copied to another
 * row does not open there. Result: `enc:v1:<base64url iv>.<base64url ciphertext>.<base64url tag>`.
 */
export function sealText(key: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv, {authTagLength: TAG_BYTES})
  cipher.setAAD(Buffer.from(context, 'utf8'))
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return `${SEALED_PREFIX}${[iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.')}`
}

/** Whether `value` was made by sealText. */
export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX)
}

/**
 * Opens a value made by sealText with the same key and context. Throws an Error when the key
 * or context differ or the value was altered (GCM authentication), or it is not sealed.
 */
export function openSealedText(key: Buffer, sealed: string, context: string): string {
  if (!isSealed(sealed)) throw new Error('the value is not sealed')
  const parts = sealed.slice(SEALED_PREFIX.length).split('.')
  if (parts.length !== 3) throw new Error('the sealed value is malformed')
  const [iv, ciphertext, tag] = parts.map((part) => Buffer.from(part, 'base64url'))
  if (iv!.length !== IV_BYTES || tag!.length !== TAG_BYTES) throw new Error('the sealed value is malformed')
  const decipher = createDecipheriv('aes-256-gcm', key, iv!, {authTagLength: TAG_BYTES})
  decipher.setAAD(Buffer.from(context, 'utf8'))
  decipher.setAuthTag(tag!)
  try {
    return Buffer.concat([decipher.update(ciphertext!), decipher.final()]).toString('utf8')
  } catch (cause) {
    throw new Error('the sealed value does not open with this key (wrong secret_key, or altered)', {cause})
  }
}
