import type {LoadedConfig} from '../config/load-config.js'
import type {Config} from '../config/settings.js'
import {parseDatabaseUrl, type DatabaseTarget} from '../db/database-url.js'
import {systemClock, type Clock} from '../security/clock.js'
import {checkClock} from './clock-check.js'
import {checkDatabaseReachable, checkMigrations} from './database-check.js'
import {checkResult, messageOf, notChecked, type CheckName, type CheckResult} from './doctor-check.js'
import {checkFilePermissions} from './file-permission-check.js'
import {checkSecretKey} from './secret-key-check.js'
import {checkSigningKeys} from './signing-key-check.js'
import {checkSmtp} from './smtp-check.js'

export interface DoctorInput {
  /** Loads the effective configuration; its errors become the config check's failure. */
  loadConfig: () => LoadedConfig
  cwd: string
  clock?: Clock
  /** Further rules a face holds the configuration to (the daemon's cron schedule); each throws its message. */
  configChecks?: ((config: Config) => void)[]
  /** Postgres connect timeout (default 3 s). */
  connectTimeoutMs?: number
  /** SMTP connect, greeting and socket timeout (default 5 s). */
  smtpTimeoutMs?: number
}

export const DOCTOR_CHECKS: CheckName[] = ['config', 'database', 'migrations', 'file_permissions', 'secret_key', 'signing_keys', 'smtp', 'clock']

/**
 * Checks a deployment the way the daemon would find it, changing nothing: no migration, no
 * file or key created. One result per check, in DOCTOR_CHECKS order; a failing check never
 * stops the others, and checks that depend on a failed one say they were not checked.
 */
export async function runDoctor(input: DoctorInput): Promise<CheckResult[]> {
  const clock = input.clock ?? systemClock
  let loaded: LoadedConfig
  let target: DatabaseTarget
  try {
    loaded = input.loadConfig()
    target = parseDatabaseUrl(loaded.config.databaseUrl, input.cwd)
    for (const check of input.configChecks ?? []) check(loaded.config)
  } catch (error) {
    return [checkResult('config', 'fail', messageOf(error)), ...DOCTOR_CHECKS.slice(1).map((check) => notChecked(check, 'the configuration did not load'))]
  }
  const {config, configFile} = loaded
  const results: CheckResult[] = [checkResult('config', 'ok', configFile ? `loaded from ${configFile}` : 'loaded (no config file: defaults and SAASCTL_* environment)')]

  // Before the database opens: as found, not with the -wal and -shm files opening creates.
  const filePermissions = checkFilePermissions(config, configFile, input.cwd)
  const database = await checkDatabaseReachable(target, input.connectTimeoutMs ?? 3_000)
  results.push(database.result)
  const secretKey = checkSecretKey(config, target)
  try {
    const migrations = database.opened ? await checkMigrations(database.opened).catch((error: unknown) => ({applied: null, result: checkResult('migrations', 'fail', messageOf(error))})) : null
    results.push(migrations?.result ?? notChecked('migrations', 'the database is unreachable'))
    results.push(filePermissions)
    results.push(secretKey.result)
    if (!database.opened || !migrations) results.push(notChecked('signing_keys', 'the database is unreachable'))
    else if (migrations.applied === null) results.push(notChecked('signing_keys', 'the migrations could not be read'))
    else if (migrations.applied === 0) results.push(notChecked('signing_keys', 'the database is not migrated'))
    else results.push(await checkSigningKeys(database.opened.db, secretKey.key, clock.now()).catch((error: unknown) => checkResult('signing_keys', 'fail', messageOf(error))))
    results.push(await checkSmtp(config, target, input.cwd, input.smtpTimeoutMs ?? 5_000))
    if (!database.opened) results.push(notChecked('clock', 'the database is unreachable'))
    else results.push(await checkClock(database.opened.db, database.opened.dialect, clock).catch((error: unknown) => checkResult('clock', 'fail', messageOf(error))))
  } finally {
    await database.opened?.close()
  }
  return results
}
