import {existsSync, statSync} from 'node:fs'
import path from 'node:path'
import {backupSqliteFile, type SqliteBackupProgress} from '../db/sqlite-file.js'
import {DomainError} from '../errors/domain-error.js'
import {secretKeyFileOf} from '../security/secret-key.js'
import {asIoError, copyToPrivateTemporaryFile, createPrivateTemporaryFile, databaseFileRole, describeDatabaseFileRole, fileExists, isPresent, publishTemporaryFile, requireDirectoryOf, syncFile, unlinkSafely} from './private-file.js'

export interface SqliteBackupInput {
  /** The live database file. */
  databaseFile: string
  /** Where the backup goes; its secret key file goes to `<file>.secret-key`. */
  file: string
  /** Replace an existing backup (and its key file) instead of refusing. */
  overwrite: boolean
  /** secret_key is set in the configuration: it, not a key file, opens the sealed values, so no key file is copied. */
  secretKeyConfigured?: boolean
  onProgress?: (progress: SqliteBackupProgress) => void
}

export interface SqliteBackupResult {
  file: string
  bytes: number
  pages: number
  /** The copy of the database's secret key file, or null when it has none (or the key is configured). */
  secretKeyFile: string | null
}

/**
 * Writes a consistent copy of a SQLite database that daemons and commands may be using, as a
 * new file readable by its owner only: a temporary file beside `file` filled by SQLite's online
 * backup, flushed, then moved into place (never over an existing file unless `overwrite`).
 * The database's secret key file, when there is one, is copied the same way to
 * `<file>.secret-key`: without it the sealed values in the backup (private signing keys, TOTP
 * secrets, sealed mail bodies, webhook secrets) cannot be opened. Raises `backup.file_exists`,
 * `backup.unsupported` (an in-memory database; a destination that is one of the database's files),
 * `backup.directory_missing`, `backup.io_error` and `db.unreachable` (no database at the path).
 * No key file is copied when secret_key is configured.
 */
export async function backupSqliteDatabase(input: SqliteBackupInput): Promise<SqliteBackupResult> {
  try {
    return await backUp(input)
  } catch (error) {
    throw asIoError(error, 'backup.io_error', path.resolve(input.file))
  }
}

async function backUp(input: SqliteBackupInput): Promise<SqliteBackupResult> {
  const {databaseFile, overwrite} = input
  if (databaseFile === ':memory:') throw new DomainError('backup.unsupported', 'An in-memory database has nothing to back up')
  if (!existsSync(databaseFile)) throw new DomainError('db.unreachable', `No SQLite database at ${databaseFile}`)
  const file = path.resolve(input.file)
  requireDirectoryOf(file)
  const keyFile = secretKeyFileOf(file)
  for (const target of [file, keyFile]) {
    const role = databaseFileRole(target, databaseFile)
    if (role !== null) throw new DomainError('backup.unsupported', `The backup cannot be written over ${describeDatabaseFileRole(role, databaseFile)} (${target})`)
  }
  // Checked again, atomically, when each file is moved into place.
  for (const target of [file, keyFile]) if (!overwrite && isPresent(target)) throw fileExists(target)

  const sourceKeyFile = secretKeyFileOf(databaseFile)
  let copiesKey = false
  let temporary: string | null = null
  let keyTemporary: string | null = null
  let pages: number
  try {
    temporary = createPrivateTemporaryFile(file)
    ;({pages} = await backupSqliteFile(databaseFile, temporary, input.onProgress))
    syncFile(temporary)
    // The key after the snapshot: a key file made while the copy ran (the first sealed value) is in it too.
    copiesKey = !input.secretKeyConfigured && existsSync(sourceKeyFile)
    if (copiesKey) keyTemporary = copyToPrivateTemporaryFile(sourceKeyFile, keyFile)
    if (keyTemporary) publishTemporaryFile(keyTemporary, keyFile, overwrite)
    keyTemporary = null
    publishTemporaryFile(temporary, file, overwrite)
    temporary = null
    // Replacing a backup: a key file left from the old one would be taken for this one's.
    if (overwrite && !copiesKey) unlinkSafely(keyFile)
  } catch (error) {
    if (temporary) unlinkSafely(temporary)
    if (keyTemporary) unlinkSafely(keyTemporary)
    throw error
  }
  return {file, bytes: statSync(file).size, pages, secretKeyFile: copiesKey ? keyFile : null}
}
