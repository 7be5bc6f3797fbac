import {existsSync} from 'node:fs'
import type {Config} from '../config/settings.js'
import {findExposedFiles, privateFilesOf} from '../security/private-files.js'
import {checkResult, type CheckResult} from './doctor-check.js'

/**
 * The same files `serve` refuses to start with (the config file; the SQLite database, -wal, -shm
 * and secret key file): none may be readable or writable by group or others.
 */
export function checkFilePermissions(config: Config, configFile: string | null, cwd: string): CheckResult {
  const files = privateFilesOf(config, configFile, cwd)
  const exposed = findExposedFiles(files)
  if (exposed.length > 0) {
    const list = exposed.map(({file, mode}) => `${file} (mode ${mode})`).join(', ')
    return checkResult('file_permissions', 'fail', `group or others can read or write ${list}: run \`chmod 600\` on ${exposed.length === 1 ? 'it' : 'them'}; \`serve\` refuses to start`)
  }
  const present = files.filter((file) => existsSync(file))
  if (present.length === 0) return checkResult('file_permissions', 'ok', 'no local files to check (no config file; the database is not a SQLite file)')
  return checkResult('file_permissions', 'ok', `${present.length} file(s) private to their owner: ${present.join(', ')}`)
}
