import {randomBytes} from 'node:crypto'
import {closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync} from 'node:fs'
import path from 'node:path'
import {DomainError} from '../errors/domain-error.js'

/** AES-256: the secret key is exactly 32 bytes. */
export const SECRET_KEY_BYTES = 32

/**
 * Decodes a secret key written as 64 hex digits or as base64 / base64url (43 or 44
 * characters) of 32 bytes. Returns null for anything else, so callers word their own error.
 */
export function decodeSecretKey(text: string): Buffer | null {
  const trimmed = text.trim()
  if (/^[0-9a-f]{64}$/i.test(trimmed)) return Buffer.from(trimmed, 'hex')
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    if (bytes.length === SECRET_KEY_BYTES) return bytes
  }
  return null
}

/** A fresh secret key, base64-encoded (what `<db>.secret-key` holds and `secret_key` accepts). */
export function generateSecretKeyText(): string {
  return randomBytes(SECRET_KEY_BYTES).toString('base64')
}

/** The key file beside a SQLite database: `<db file>.secret-key`. */
export function secretKeyFileOf(databaseFile: string): string {
  return `${databaseFile}.secret-key`
}

export interface SecretKeySourceOptions {
  /** The `secret_key` setting (SAASCTL_SECRET_KEY), already checked by the config schema. */
  configured: string | undefined
  /**
   * Where a key is kept when none is configured: the SQLite database's key file. Null (Postgres):
   * a configured key is required, so that every host shares it.
   */
  keyFile: string | null
}

export interface SecretKeySource {
  /** The 32-byte key; raises `secret_key.required` when none is configured and none can be kept. */
  get(): Buffer
}

/**
 * The one secret key of a deployment, for whatever must be kept encrypted at rest (private
 * signing keys; later the audit checkpoint). Resolved on first use: the `secret_key` setting,
 * else on SQLite the key file beside the database, created `0600` by whichever process needs
 * it first (atomically: a second process reads the first one's key, never makes its own).
 */
export function createSecretKeySource(options: SecretKeySourceOptions): SecretKeySource {
  let key: Buffer | null = null
  return {
    get() {
      key ??= resolve(options)
      return key
    },
  }
}

function resolve(options: SecretKeySourceOptions): Buffer {
  if (options.configured !== undefined) {
    const decoded = decodeSecretKey(options.configured)
    if (!decoded) throw new DomainError('config.invalid', 'Invalid setting secret_key: must be 32 bytes as 64 hex digits or base64')
    return decoded
  }
  if (options.keyFile === null) {
    throw new DomainError(
      'secret_key.required',
      'On Postgres the setting secret_key (SAASCTL_SECRET_KEY) is required: 32 bytes as 64 hex digits or base64, the same on every host (e.g. `openssl rand -base64 32`)',
    )
  }
  return readOrCreateKeyFile(options.keyFile)
}

function readOrCreateKeyFile(file: string): Buffer {
  const existing = readKeyFile(file)
  if (existing) return existing
  // Write the whole key to a private temporary file, then link it into place: link fails when
  // the file exists, so of two racing processes one key wins and both use it.
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const descriptor = openSync(temporary, 'wx', 0o600)
  try {
    writeSync(descriptor, `${generateSecretKeyText()}\n`)
    fsyncSync(descriptor)
  } finally {
    closeSync(descriptor)
  }
  try {
    linkSync(temporary, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    unlinkSync(temporary)
  }
  const created = readKeyFile(file)
  if (!created) throw new DomainError('secret_key.invalid', `The secret key file ${file} does not hold a 32-byte key`)
  return created
}

function readKeyFile(file: string): Buffer | null {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  const decoded = decodeSecretKey(text)
  if (!decoded) throw new DomainError('secret_key.invalid', `The secret key file ${file} does not hold a 32-byte key (64 hex digits or base64)`)
  return decoded
}
