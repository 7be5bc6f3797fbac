import {Migrator, type Kysely, type MigrationResultSet} from 'kysely'
import {MIGRATIONS} from '../../migrations/index.js'
import {DomainError} from '../errors/domain-error.js'
import type {DialectName} from './database-url.js'

export interface MigrationState {
  name: string
  executedAt: string | null
}

const MIGRATION_TABLE = 'saasctl_migration'

function createMigrator(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: {getMigrations: async () => MIGRATIONS},
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: 'saasctl_migration_lock',
  })
}

/** Every known migration and when it ran (null: pending). */
export async function listMigrations(db: Kysely<any>): Promise<MigrationState[]> {
  const migrations = await createMigrator(db).getMigrations()
  return migrations.map((migration) => ({
    name: migration.name,
    executedAt: migration.executedAt ? new Date(migration.executedAt).toISOString() : null,
  }))
}

/** Applies every pending migration; returns the names applied. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  return appliedNames(await createMigrator(db).migrateToLatest())
}

/** Reverts the newest applied migration; raises `db.nothing_to_migrate` when none is applied. */
export async function migrateDownOne(db: Kysely<any>): Promise<string[]> {
  const applied = (await listMigrations(db)).filter((migration) => migration.executedAt)
  if (applied.length === 0) throw new DomainError('db.nothing_to_migrate', 'No migration has been applied; nothing to revert')
  return appliedNames(await createMigrator(db).migrateDown())
}

/**
 * Makes sure the schema is current before a command uses it. An embedded SQLite file is the
 * operator's own, so it is migrated on the spot; a shared Postgres is migrated only on purpose
 * (`saas-ctl migrate up`), so pending migrations raise `db.migrations_pending`.
 */
export async function ensureSchemaCurrent(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (await isEveryMigrationApplied(db)) return
  // Reading the state first keeps every command on a current file off the write lock;
  // migrateToLatest checks again under its lock, so two first runs still migrate once.
  const pending = (await listMigrations(db)).filter((migration) => !migration.executedAt)
  if (pending.length === 0) return
  if (dialect === 'sqlite') {
    await migrateToLatest(db)
    return
  }
  throw new DomainError(
    'db.migrations_pending',
    `The database has ${pending.length} pending migration(s) (${pending.map((migration) => migration.name).join(', ')}); run \`saas-ctl migrate up\` first`,
  )
}

/**
 * The common case, cheaply: one read of the migration table. Kysely's Migrator first checks
 * that its tables exist by introspecting the whole schema (on SQLite a query per table), which
 * was most of a short command's database time. Anything unusual (no table yet, a migration
 * not applied) answers false, and the Migrator's full reading decides.
 */
async function isEveryMigrationApplied(db: Kysely<any>): Promise<boolean> {
  let applied: Set<string>
  try {
    const rows: Array<{name: string}> = await db.selectFrom(MIGRATION_TABLE).select('name').execute()
    applied = new Set(rows.map((row) => row.name))
  } catch {
    return false
  }
  return Object.keys(MIGRATIONS).every((name) => applied.has(name))
}

function appliedNames({error, results}: MigrationResultSet): string[] {
  if (error) {
    const failed = results?.find((result) => result.status === 'Error')
    throw new DomainError('internal.error', `Migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message}`.replace('  ', ' '))
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName)
}
