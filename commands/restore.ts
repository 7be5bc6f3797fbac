import {Args, Flags} from '@oclif/core'
import type {RestorePlan} from '../src/backup/sqlite-restore.js'
import {parseDatabaseUrl} from '../src/db/database-url.js'
import {BaseCommand} from './lib/base-command.js'
import {confirmOrRefuse} from './lib/confirm.js'

export default class Restore extends BaseCommand<typeof Restore> {
  static override summary = 'Replace the SQLite database with a backup (refused while a daemon uses it), or print the pg_restore command on Postgres'
  static override description = [
    'SQLite: the backup is copied beside the database and checked (SQLite integrity_check, a saas-ctl database, no migration newer than this version), then it replaces the database in one rename. Refused while any process has the database open — a running daemon (named by its rate-limit presence rows) or a command: stop them first. Asks unless --yes.',
    'The backup\'s <file>.secret-key replaces the database\'s key file. A backup without one over a database that has one is refused unless --keep-secret-key (the backup was made with this very key) or the secret_key setting is used.',
    'Postgres: prints the pg_restore command to run and changes nothing.',
  ].join(' ')

  static override args = {file: Args.string({description: 'Backup file made by `saas-ctl backup` (SQLite) or pg_dump (Postgres)', required: true})}
  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation'}),
    'keep-secret-key': Flags.boolean({description: 'The backup has no .secret-key: keep the key file beside the database'}),
    force: Flags.boolean({description: 'Replace a file at the database path that SQLite cannot open (so cannot be checked for users)'}),
  }

  async run() {
    const {config} = this.loadConfiguration()
    const target = parseDatabaseUrl(config.databaseUrl, process.cwd())
    if (target.dialect === 'postgres') {
      // Loaded here, not at start: every command's start pays for what commands/index.ts imports.
      const {pgRestoreCommand} = await import('../src/backup/postgres-commands.js')
      const {command, passwordEnv} = pgRestoreCommand(target.connectionString, this.args.file)
      this.log('On Postgres, saas-ctl leaves the restore to pg_restore. Stop the daemons, then run:')
      this.log(`  ${command}`)
      if (passwordEnv) this.log(`The password is left out of the URL: set ${passwordEnv} (or use ~/.pgpass) for it.`)
      this.log('Set secret_key (SAASCTL_SECRET_KEY) to the key the dumped deployment used, then run `saas-ctl migrate up` if the dump is from an older version.')
      return {dialect: 'postgres', file: this.args.file, command, passwordEnv}
    }
    const {restoreSqliteDatabase} = await import('../src/backup/sqlite-restore.js')
    const plan = await restoreSqliteDatabase({
      backupFile: this.args.file,
      databaseFile: target.file,
      keepSecretKey: this.flags['keep-secret-key'],
      secretKeyConfigured: config.secretKey !== undefined,
      force: this.flags.force,
      now: new Date(),
      confirm: (checked) => confirmOrRefuse(describePlan(checked), this.flags.yes),
    })
    // Recorded in the restored database's own log (opening it runs any newer migrations now).
    const core = await this.openCore()
    await core.audit.recordRestore(this.actor(), {backupFile: plan.backupFile, backupMigrations: plan.migrations})
    this.log(`Restored ${plan.databaseFile} from ${plan.backupFile} (${plan.migrations} migration(s)${plan.pendingMigrations ? `; ${plan.pendingMigrations} newer one(s) run on first use` : ''})`)
    if (plan.secretKey === 'restored') this.log(`Secret key restored to ${plan.secretKeyFile}`)
    if (plan.secretKey === 'kept') this.log(`The backup had no secret key file; ${plan.secretKeyFile} was kept`)
    if (plan.secretKey === 'none' && config.secretKey === undefined) {
      this.log('Neither the backup nor the database had a secret key file: sealed values in the backup open only with the key it was made with (secret_key, or the key file put beside the database).')
    }
    return {dialect: 'sqlite', ...plan}
  }
}

function describePlan(plan: RestorePlan): string {
  const replaced = plan.replacesExisting ? `Replace ${plan.databaseFile} (its current content is lost)` : `Create ${plan.databaseFile}`
  return `${replaced} with the backup ${plan.backupFile}?`
}
