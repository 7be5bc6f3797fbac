import {createHmac} from 'node:crypto'

// An independent TOTP (RFC 6238 over RFC 4226's HOTP, HMAC-SHA1, 6 digits, 30 s): the tests
// check the product's otplib-based codes against this, never against otplib itself.

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** RFC 4648 base32 (padding and case ignored). */
export function decodeBase32(text: string): Buffer {
  const clean = text.toUpperCase().replace(/=+$/, '')
  let bits = 0
  let value = 0
  const bytes: number[] = []
  for (const character of clean) {
    const index = BASE32_ALPHABET.indexOf(character)
    if (index < 0) throw new Error(`not base32: ${character}`)
    value = (value << 5) | index
    bits += 5
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(bytes)
}

/** HOTP(K, C) = Truncate(HMAC-SHA1(K, C)) mod 10^6 (RFC 4226 §5.3). */
export function hotp(key: Buffer, counter: number): string {
  const message = Buffer.alloc(8)
  message.writeBigUInt64BE(BigInt(counter))
  const digest = createHmac('sha1', key).update(message).digest()
  const offset = digest[digest.length - 1]! & 0x0f
  const binary = ((digest[offset]! & 0x7f) << 24) | (digest[offset + 1]! << 16) | (digest[offset + 2]! << 8) | digest[offset + 3]!
  return String(binary % 1_000_000).padStart(6, '0')
}

/** The time step of `date` (T0 = 0, X = 30 s). */
export function timeStepOf(date: Date): number {
  return Math.floor(date.getTime() / 1000 / 30)
}

/** The TOTP code of a base32 secret at `date`, shifted by `stepOffset` steps. */
export function totpCode(secretBase32: string, date: Date, stepOffset = 0): string {
  return hotp(decodeBase32(secretBase32), timeStepOf(date) + stepOffset)
}
