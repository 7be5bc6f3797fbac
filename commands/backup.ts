import {Args, Flags} from '@oclif/core'
import {parseDatabaseUrl} from '../src/db/database-url.js'
import type {SqliteBackupProgress} from '../src/db/sqlite-file.js'
import {BaseCommand} from './lib/base-command.js'

/** Databases smaller than this finish before a progress line would be worth drawing. */
const PROGRESS_MIN_PAGES = 25_000
const PROGRESS_INTERVAL_MILLISECONDS = 250

export default class Backup extends BaseCommand<typeof Backup> {
  static override summary = 'Back up the database: a consistent SQLite copy (with its secret key file), or the pg_dump command on Postgres'
  static override description = [
    'SQLite: an online backup, safe while daemons and commands use the database. The copy is written to a new file (mode 0600) beside <file> and renamed into place; an existing <file> is replaced only with --force.',
    'The secret key file beside the database is copied to <file>.secret-key (0600): without it the sealed values in the backup (private signing keys, TOTP secrets, sealed mail bodies, webhook secrets) cannot be opened. Keep both together, and as private as the database.',
    'Postgres: prints the pg_dump command to run (custom format; the URL without its password) and writes nothing; keep the secret_key setting with the dump.',
  ].join(' ')

  static override args = {file: Args.string({description: 'Backup file to write (SQLite) or to name in the pg_dump command (Postgres)', required: true})}
  static override flags = {
    force: Flags.boolean({description: 'Replace an existing backup file (and its .secret-key)'}),
  }

  async run() {
    const {config} = this.loadConfiguration()
    const target = parseDatabaseUrl(config.databaseUrl, process.cwd())
    if (target.dialect === 'postgres') {
      // Loaded here, not at start: every command's start pays for what commands/index.ts imports.
      const {pgDumpCommand} = await import('../src/backup/postgres-commands.js')
      const {command, passwordEnv} = pgDumpCommand(target.connectionString, this.args.file)
      this.log('On Postgres, saas-ctl leaves the backup to pg_dump. Run:')
      this.log(`  ${command}`)
      if (passwordEnv) this.log(`The password is left out of the URL: set ${passwordEnv} (or use ~/.pgpass) for it.`)
      this.log('Keep the secret_key setting (SAASCTL_SECRET_KEY) with the dump: without it the sealed values in it (private signing keys, TOTP secrets, sealed mail bodies, webhook secrets) cannot be opened.')
      return {dialect: 'postgres', file: this.args.file, command, passwordEnv, secretKeyFile: null}
    }
    const {backupSqliteDatabase} = await import('../src/backup/sqlite-backup.js')
    const progress = this.progressReporter()
    let result
    try {
      result = await backupSqliteDatabase({databaseFile: target.file, file: this.args.file, overwrite: this.flags.force, secretKeyConfigured: config.secretKey !== undefined, onProgress: progress.update})
    } finally {
      progress.finish()
    }
    this.log(`Backed up ${target.file} to ${result.file} (${result.bytes.toLocaleString('en-US')} bytes, ${result.pages.toLocaleString('en-US')} pages)`)
    if (result.secretKeyFile) {
      this.log(`Secret key copied to ${result.secretKeyFile}: keep it with the backup, as private as it — without it the sealed values in the backup (private signing keys, TOTP secrets, sealed mail bodies, webhook secrets) cannot be opened.`)
    } else if (config.secretKey !== undefined) {
      this.log('The secret key comes from the secret_key setting (SAASCTL_SECRET_KEY): keep it with the backup — without it the sealed values in the backup cannot be opened.')
    } else {
      this.log('The database has no secret key file yet (nothing has been sealed with one), so none was copied.')
    }
    return {dialect: 'sqlite', file: result.file, bytes: result.bytes, pages: result.pages, secretKeyFile: result.secretKeyFile}
  }

  /** A progress line on stderr for a big database, when stderr is a terminal and the output is not --json. */
  private progressReporter(): {update: (progress: SqliteBackupProgress) => void; finish: () => void} {
    if (!process.stderr.isTTY || this.jsonEnabled()) return {update: () => {}, finish: () => {}}
    let drawnAt = 0
    let drawn = false
    return {
      update({totalPages, remainingPages}) {
        if (totalPages < PROGRESS_MIN_PAGES || Date.now() - drawnAt < PROGRESS_INTERVAL_MILLISECONDS) return
        drawnAt = Date.now()
        drawn = true
        const percent = Math.floor(((totalPages - remainingPages) / totalPages) * 100)
        process.stderr.write(`\r\u001b[2Kbacked up ${percent}% of ${totalPages.toLocaleString('en-US')} pages`)
      },
      finish() {
        if (drawn) process.stderr.write('\r\u001b[2K')
      },
    }
  }
}
