import {readFileSync} from 'node:fs'
import type {Config} from '../config/settings.js'
import type {DatabaseTarget} from '../db/database-url.js'
import {decodeSecretKey, secretKeyFileOf} from '../security/secret-key.js'
import {checkResult, type CheckResult} from './doctor-check.js'

export interface SecretKeyCheck {
  /** The key, for checking that the signing keys open with it; never shown. Null when there is none. */
  key: Buffer | null
  result: CheckResult
}

/**
 * Whether the deployment's secret key is there, without creating it and without showing it:
 * the secret_key setting (required on Postgres), else on SQLite the key file beside the database.
 */
export function checkSecretKey(config: Config, target: DatabaseTarget): SecretKeyCheck {
  if (config.secretKey !== undefined) {
    // The config schema accepted it, so it decodes.
    return {key: decodeSecretKey(config.secretKey), result: checkResult('secret_key', 'ok', 'secret_key is set (32 bytes)')}
  }
  if (target.dialect === 'postgres') {
    return {
      key: null,
      result: checkResult('secret_key', 'fail', 'secret_key (SAASCTL_SECRET_KEY) is not set: required on Postgres, the same on every host; `serve` refuses to start'),
    }
  }
  if (target.file === ':memory:') return {key: null, result: checkResult('secret_key', 'ok', 'n/a: an in-memory database makes a key that dies with it')}
  const file = secretKeyFileOf(target.file)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      return {key: null, result: checkResult('secret_key', 'warn', `no secret_key setting and no key file ${file} yet: the first process that needs one creates it`)}
    }
    return {key: null, result: checkResult('secret_key', 'fail', `cannot read the key file ${file}: ${code ?? (error as Error).message}`)}
  }
  const key = decodeSecretKey(text)
  if (!key) return {key: null, result: checkResult('secret_key', 'fail', `the key file ${file} does not hold a 32-byte key (64 hex digits or base64)`)}
  return {key, result: checkResult('secret_key', 'ok', `key file ${file} (32 bytes)`)}
}
