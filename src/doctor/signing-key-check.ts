import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {privateKeyContext} from '../identity/signing-key-store.js'
import {isSealed, openSealedText} from '../security/encryption.js'
import {checkResult, type CheckResult} from './doctor-check.js'

/**
 * Nothing retires an active signing key by itself; past this age `doctor` recommends a rotation
 * (a warning: tokens still verify). A new key is trusted everywhere within one revocation poll.
 */
export const SIGNING_KEY_ROTATION_DAYS = 90
const DAY_MS = 86_400_000
/** More than this ahead of the clock: the key was made on a host whose clock ran ahead. */
const FUTURE_TOLERANCE_MS = 60_000

/**
 * Exactly one active signing key, whose private half opens with the secret key (so the daemon
 * can sign), younger than SIGNING_KEY_ROTATION_DAYS. No key at all is a warning: `serve` makes
 * one on its first start.
 */
export async function checkSigningKeys(db: Kysely<Database>, secretKey: Buffer | null, now: Date): Promise<CheckResult> {
  const rows = await db.selectFrom('signing_key').select(['kid', 'private_jwk', 'created_at', 'retired_at']).orderBy('created_at', 'desc').execute()
  if (rows.length === 0) return checkResult('signing_keys', 'warn', 'no signing key yet: `serve` makes one on its first start (or `saas-ctl keys rotate`)')
  const active = rows.filter((row) => row.retired_at === null)
  const retired = rows.length - active.length
  if (active.length === 0) return checkResult('signing_keys', 'fail', `no active signing key (${retired} retired): \`saas-ctl keys rotate\` makes one`)
  if (active.length > 1) return checkResult('signing_keys', 'fail', `${active.length} active signing keys (${active.map((row) => row.kid).join(', ')}); one is expected: \`saas-ctl keys rotate\``)
  const key = active[0]!
  const name = `active key ${key.kid}`
  const opening = checkPrivateKeyOpens(key, secretKey)
  if (opening) return checkResult('signing_keys', opening.status, `${name}: ${opening.detail}`)
  const ageMs = now.getTime() - Date.parse(key.created_at)
  if (ageMs < -FUTURE_TOLERANCE_MS) return checkResult('signing_keys', 'warn', `${name} was created ${key.created_at}, in the future: is a clock wrong?`)
  const ageDays = Math.max(0, Math.floor(ageMs / DAY_MS))
  const retiredNote = retired > 0 ? `; ${retired} retired key(s) kept until their tokens expire` : ''
  if (ageDays >= SIGNING_KEY_ROTATION_DAYS) {
    return checkResult('signing_keys', 'warn', `${name} is ${ageDays} days old (rotate every ${SIGNING_KEY_ROTATION_DAYS}): \`saas-ctl keys rotate\`${retiredNote}`)
  }
  return checkResult('signing_keys', 'ok', `${name}, ${ageDays} day(s) old, opens with the secret key${retiredNote}`)
}

/** Null when the private key opens with the secret key; otherwise why not. */
function checkPrivateKeyOpens(row: {kid: string; private_jwk: string}, secretKey: Buffer | null): {status: 'warn' | 'fail'; detail: string} | null {
  if (!isSealed(row.private_jwk)) return {status: 'warn', detail: 'stored unencrypted by an earlier version; `serve` encrypts it on its next start'}
  if (!secretKey) return {status: 'fail', detail: 'encrypted, and there is no secret key to open it with (see secret_key)'}
  try {
    const jwk = JSON.parse(openSealedText(secretKey, row.private_jwk, privateKeyContext(row.kid))) as {d?: unknown}
    if (typeof jwk.d !== 'string') return {status: 'fail', detail: 'its private half is not a private key'}
    return null
  } catch {
    return {status: 'fail', detail: 'does not open with the secret key (was secret_key or the key file changed?); the daemon cannot sign'}
  }
}
