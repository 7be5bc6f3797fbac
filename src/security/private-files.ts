import {statSync} from 'node:fs'
import type {Config} from '../config/settings.js'
import {parseDatabaseUrl} from '../db/database-url.js'
import {secretKeyFileOf} from './secret-key.js'

export interface ExposedFile {
  file: string
  /** The permission bits in octal, e.g. `0644`. */
  mode: string
}

/**
 * Files that hold password hashes, session state or secrets, and so must be private to their
 * owner: the config file (when there is one) and, on a SQLite file database, the database, its
 * -wal and -shm files and the secret key file beside it. Whether they exist is not checked.
 */
export function privateFilesOf(config: Config, configFile: string | null, cwd: string): string[] {
  const target = parseDatabaseUrl(config.databaseUrl, cwd)
  const databaseFiles = target.dialect === 'sqlite' && target.file !== ':memory:' ? [target.file, `${target.file}-wal`, `${target.file}-shm`, secretKeyFileOf(target.file)] : []
  return [...(configFile ? [configFile] : []), ...databaseFiles]
}

/**
 * The files among `files` that group or others may read or write. A file that does not exist is
 * not exposed (saas-ctl creates them 0600). Always empty on Windows, which has no such modes.
 */
export function findExposedFiles(files: string[]): ExposedFile[] {
  if (process.platform === 'win32') return []
  const exposed: ExposedFile[] = []
  for (const file of files) {
    let mode: number
    try {
      mode = statSync(file).mode
    } catch {
      continue // not there yet: created 0600
    }
    if ((mode & 0o066) !== 0) exposed.push({file, mode: (mode & 0o777).toString(8).padStart(4, '0')})
  }
  return exposed
}
