import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {MIGRATIONS} from '../../migrations/index.js'
import {inspectSqliteFile, lockSqliteFileExclusively, type DaemonPresence, type SqliteFileLock} from '../db/sqlite-file.js'
import {DomainError} from '../errors/domain-error.js'
import {USAGE_WINDOW_MS} from '../rate-limit/rate-limiter.js'
import {decodeSecretKey, secretKeyFileOf} from '../security/secret-key.js'
import {asIoError, copyToPrivateTemporaryFile, databaseFileRole, describeDatabaseFileRole, isPresent, publishTemporaryFile, requireDirectoryOf, syncDirectory, unlinkSafely} from './private-file.js'

export type SecretKeyOutcome =
  /** The backup's key file now sits beside the database. */
  | 'restored'
  /** The backup has no key file; the one beside the database stays (--keep-secret-key). */
  | 'kept'
  /** No key file in the backup nor beside the database. */
  | 'none'

export interface RestorePlan {
  backupFile: string
  databaseFile: string
  /** Migrations the backup has run; an older backup is brought up to date on first use. */
  migrations: number
  pendingMigrations: number
  replacesExisting: boolean
  secretKey: SecretKeyOutcome
  /** The key file beside the database afterwards, or null when there is none. */
  secretKeyFile: string | null
}

export interface SqliteRestoreInput {
  backupFile: string
  databaseFile: string
  /** The backup has no key file but one is beside the database: keep it instead of refusing. */
  keepSecretKey: boolean
  /** secret_key is set in the configuration: key files are not what opens sealed values. */
  secretKeyConfigured: boolean
  /** Replace a file at the database path that SQLite cannot open (so cannot check for users). */
  force: boolean
  /** Called once the backup is checked and before anything changes; throws to cancel. */
  confirm: (plan: RestorePlan) => Promise<void>
  now: Date
}

/**
 * Replaces a SQLite database with a backup. The backup is copied to a private temporary file
 * beside the database and checked there (integrity_check; a saas-ctl database; no migration this
 * version does not know), then the database is taken exclusively — refused with
 * `restore.database_in_use` while any process has it open: a daemon (named by its rate-limit
 * presence rows) or a command — its `-wal`/`-shm` are folded in and removed under that lock, and
 * the copy is renamed over it. The backup's key file replaces the database's; a backup without
 * one over a database with one is refused (`restore.secret_key_missing`) unless `keepSecretKey`
 * or secret_key is configured. Raises `backup.not_found`, `backup.directory_missing`, `backup.invalid`, `backup.too_new`,
 * `restore.database_in_use`, `restore.secret_key_missing`, `restore.secret_key_invalid`,
 * `restore.target_unreadable` (only that one does `force` override) and `restore.io_error`.
 */
export async function restoreSqliteDatabase(input: SqliteRestoreInput): Promise<RestorePlan> {
  try {
    return await restore(input)
  } catch (error) {
    throw asIoError(error, 'restore.io_error', input.databaseFile)
  }
}

async function restore(input: SqliteRestoreInput): Promise<RestorePlan> {
  const backupFile = path.resolve(input.backupFile)
  const databaseFile = input.databaseFile
  if (databaseFile === ':memory:') throw new DomainError('backup.unsupported', 'An in-memory database cannot be restored into')
  if (!existsSync(backupFile)) throw new DomainError('backup.not_found', `No backup at ${backupFile}`)
  const role = databaseFileRole(backupFile, databaseFile)
  if (role !== null) throw new DomainError('backup.unsupported', `The backup ${backupFile} is ${describeDatabaseFileRole(role, databaseFile)}`)
  requireDirectoryOf(databaseFile)
  const backupKeyFile = secretKeyFileOf(backupFile)
  const targetKeyFile = secretKeyFileOf(databaseFile)
  const hasBackupKey = existsSync(backupKeyFile)
  const hasTargetKey = existsSync(targetKeyFile)
  if (!hasBackupKey && hasTargetKey && !input.keepSecretKey && !input.secretKeyConfigured) {
    throw new DomainError(
      'restore.secret_key_missing',
      `The backup has no ${path.basename(backupKeyFile)} beside it, and ${targetKeyFile} may hold another deployment's key (the restored sealed values would not open with it). Put the backup's key file beside it, or pass --keep-secret-key if the backup was made with this key`,
    )
  }

  // The key file that will open the restored sealed values must hold a key at all.
  if (hasBackupKey) requireDecodableKey(backupKeyFile)
  else if (hasTargetKey && !input.secretKeyConfigured) requireDecodableKey(targetKeyFile)

  const temporary = copyToPrivateTemporaryFile(backupFile, databaseFile)
  let keyTemporary: string | null = null
  let lock: SqliteFileLock | null = null
  try {
    const migrations = checkBackup(temporary, backupFile)
    const plan: RestorePlan = {
      backupFile,
      databaseFile,
      migrations: migrations.length,
      pendingMigrations: Object.keys(MIGRATIONS).filter((name) => !migrations.includes(name)).length,
      replacesExisting: existsSync(databaseFile),
      secretKey: hasBackupKey ? 'restored' : hasTargetKey ? 'kept' : 'none',
      secretKeyFile: hasBackupKey || hasTargetKey ? targetKeyFile : null,
    }
    await input.confirm(plan)
    if (hasBackupKey) keyTemporary = copyToPrivateTemporaryFile(backupKeyFile, targetKeyFile)
    // Looked at again after the prompt: a daemon may have created the database while it waited,
    // and whatever is there now is replaced only under the exclusive lock.
    if (isPresent(databaseFile)) {
      lock = takeDatabase(databaseFile, input)
      plan.replacesExisting = true
    }
    // Under the lock nobody has them open: the old database's log must never meet the new file.
    for (const suffix of ['-wal', '-shm']) unlinkSafely(`${databaseFile}${suffix}`)
    publishTemporaryFile(temporary, databaseFile, true)
    if (keyTemporary) publishTemporaryFile(keyTemporary, targetKeyFile, true)
    keyTemporary = null
    syncDirectory(path.dirname(databaseFile))
    return plan
  } finally {
    lock?.release()
    unlinkSafely(temporary)
    if (keyTemporary) unlinkSafely(keyTemporary)
  }
}

/** The migrations a checked copy of a backup has run; raises backup.invalid or backup.too_new. */
function checkBackup(copy: string, backupFile: string): string[] {
  let inspection
  try {
    inspection = inspectSqliteFile(copy)
  } catch (error) {
    throw new DomainError('backup.invalid', `${backupFile} is not a SQLite database (${(error as Error).message})`)
  }
  if (inspection.integrity.length !== 1 || inspection.integrity[0] !== 'ok') {
    throw new DomainError('backup.invalid', `${backupFile} fails SQLite's integrity check: ${inspection.integrity.slice(0, 3).join('; ')}`)
  }
  if (inspection.migrations === null) throw new DomainError('backup.invalid', `${backupFile} is not a saas-ctl database (it has no migration table)`)
  const unknown = inspection.migrations.filter((name) => !(name in MIGRATIONS))
  if (unknown.length > 0) {
    throw new DomainError('backup.too_new', `${backupFile} was made by a newer saas-ctl (migrations ${unknown.join(', ')} are unknown to this version); restore it with that version`)
  }
  return inspection.migrations
}

function takeDatabase(databaseFile: string, input: SqliteRestoreInput): SqliteFileLock | null {
  const now = input.now.getTime()
  // Presence rows of the current and the previous rate-limit window: daemons seen in the last one to two minutes.
  const since = now - (now % USAGE_WINDOW_MS) - USAGE_WINDOW_MS
  let attempt
  try {
    attempt = lockSqliteFileExclusively(databaseFile, since)
  } catch (error) {
    const code = String((error as {code?: unknown}).code ?? '')
    // Busy or locked: another connection holds the file — it is in use, and --force never overrides that.
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new DomainError('restore.database_in_use', `${databaseFile} is in use: another process (a daemon or a command) holds a lock on it; stop it before restoring`, {daemons: []})
    }
    if (!FORCEABLE_CODES.some((prefix) => code.startsWith(prefix))) {
      throw new DomainError('restore.target_unreadable', `${databaseFile} cannot be taken for the restore (${(error as Error).message})`)
    }
    if (input.force) return null
    throw new DomainError(
      'restore.target_unreadable',
      `${databaseFile} cannot be opened as a SQLite database (${(error as Error).message}), so whether something uses it cannot be checked; pass --force to replace it anyway`,
    )
  }
  if (attempt.locked) return attempt.lock
  throw new DomainError('restore.database_in_use', describeUsers(databaseFile, attempt.presence), {daemons: attempt.presence.map(describePresence)})
}

function requireDecodableKey(keyFile: string): void {
  if (decodeSecretKey(readFileSync(keyFile, 'utf8')) === null) {
    throw new DomainError('restore.secret_key_invalid', `${keyFile} does not hold a 32-byte secret key (64 hex digits or base64); nothing was restored`)
  }
}

/** What SQLite raises for a file that is not a usable database: the only failures --force overrides. */
const FORCEABLE_CODES = ['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_CANTOPEN']

function describeUsers(databaseFile: string, presence: DaemonPresence[]): string {
  const who = presence.length > 0 ? `a daemon is running on it (${presence.length} seen in the last two minutes)` : 'another process (a daemon or a command) has it open'
  return `${databaseFile} is in use: ${who}; stop it before restoring`
}

function describePresence(presence: DaemonPresence): {daemonId: string; windowStart: string} {
  return {daemonId: presence.daemonId, windowStart: new Date(presence.windowStart).toISOString()}
}
