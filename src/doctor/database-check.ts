import {existsSync} from 'node:fs'
import {sql} from 'kysely'
import {describeDatabaseTarget, type DatabaseTarget} from '../db/database-url.js'
import {MIGRATIONS} from '../../migrations/index.js'
import {listMigrations} from '../db/migrations.js'
import {openDatabase, type OpenedDatabase} from '../db/open-database.js'
import {checkResult, messageOf, type CheckResult} from './doctor-check.js'

export interface DatabaseCheck {
  /** The open database when it was reached (the caller closes it), else null. */
  opened: OpenedDatabase | null
  result: CheckResult
}

/**
 * Opens the database as it is, with `connectTimeoutMs` on Postgres, and runs one query. A SQLite
 * file that does not exist is reported, not created (any other command would create it).
 */
export async function checkDatabaseReachable(target: DatabaseTarget, connectTimeoutMs: number): Promise<DatabaseCheck> {
  const name = describeDatabaseTarget(target)
  if (target.dialect === 'sqlite' && target.file !== ':memory:' && !existsSync(target.file)) {
    return {opened: null, result: checkResult('database', 'fail', `${name} does not exist (the first saas-ctl command creates it, e.g. \`saas-ctl migrate up\`)`)}
  }
  let opened: OpenedDatabase
  try {
    opened = await openDatabase(target, {connectTimeoutMs})
  } catch (error) {
    return {opened: null, result: checkResult('database', 'fail', messageOf(error))}
  }
  try {
    await sql`select 1`.execute(opened.db)
  } catch (error) {
    await opened.close()
    return {opened: null, result: checkResult('database', 'fail', `${name}: ${messageOf(error)}`)}
  }
  return {opened, result: checkResult('database', 'ok', `${name} reachable`)}
}

export interface MigrationCheck {
  /** Migrations applied (0 means an empty schema). */
  applied: number
  result: CheckResult
}

/**
 * Lists the migrations without running any. Pending ones fail on Postgres (every command refuses
 * until `migrate up`); on SQLite they are a warning, since the next command migrates the file.
 */
export async function checkMigrations(opened: OpenedDatabase): Promise<MigrationCheck> {
  const migrations = await listMigrations(opened.db)
  const pending = migrations.filter((migration) => !migration.executedAt).map((migration) => migration.name)
  const applied = migrations.length - pending.length
  // listMigrations knows only this version's migrations: a newer saas-ctl's show in the table alone.
  const unknown = (await recordedMigrationNames(opened)).filter((name) => !(name in MIGRATIONS))
  if (unknown.length > 0) {
    return {
      applied,
      result: checkResult('migrations', 'fail', `the database is newer than this saas-ctl: ${unknown.length} migration(s) it does not know (${unknown.join(', ')}); use the saas-ctl version that ran them`),
    }
  }
  if (pending.length === 0) return {applied, result: checkResult('migrations', 'ok', `all ${migrations.length} migrations applied`)}
  const list = `${pending.length} pending migration(s) (${pending.join(', ')})`
  const result =
    opened.dialect === 'postgres'
      ? checkResult('migrations', 'fail', `${list}: every command refuses until \`saas-ctl migrate up\``)
      : checkResult('migrations', 'warn', `${list}: the next saas-ctl command migrates the file (or \`saas-ctl migrate up\`)`)
  return {applied, result}
}

/** The names in the migration table, or none when there is no table yet. */
async function recordedMigrationNames(opened: OpenedDatabase): Promise<string[]> {
  try {
    const {rows} = await sql<{name: string}>`select name from saasctl_migration order by name`.execute(opened.db)
    return rows.map((row) => row.name)
  } catch {
    return []
  }
}
