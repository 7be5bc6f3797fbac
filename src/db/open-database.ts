import BetterSqlite3 from 'better-sqlite3'
import {closeSync, openSync} from 'node:fs'
import {CompiledQuery, Kysely, PostgresDialect, SqliteAdapter, SqliteDialect, SqliteDriver, sql, type DatabaseConnection, type SqliteDialectConfig} from 'kysely'
import type pg from 'pg'
import {DomainError} from '../errors/domain-error.js'
import type {Database} from './database.js'
import {describeDatabaseTarget, type DatabaseTarget, type DialectName} from './database-url.js'

export interface OpenedDatabase {
  db: Kysely<Database>
  dialect: DialectName
  target: DatabaseTarget
  close(): Promise<void>
}

export interface OpenDatabaseOptions {
  /** Postgres: give up connecting after this long (default: no limit but the operating system's). */
  connectTimeoutMs?: number
}

/**
 * The only place that knows better-sqlite3 and pg. Opens the database named by the target,
 * sets SQLite up for several processes (WAL, busy timeout, foreign keys, immediate write
 * transactions) and makes Postgres return timestamps as ISO strings and bigints as numbers,
 * so services see the same values on both. Raises `db.unreachable`.
 */
export async function openDatabase(target: DatabaseTarget, options: OpenDatabaseOptions = {}): Promise<OpenedDatabase> {
  return target.dialect === 'sqlite' ? openSqlite(target) : openPostgres(target, options)
}

function openSqlite(target: Extract<DatabaseTarget, {dialect: 'sqlite'}>): OpenedDatabase {
  let connection: BetterSqlite3.Database
  try {
    if (target.file !== ':memory:') createPrivateFile(target.file)
    connection = new BetterSqlite3(target.file)
    // Set up here, inside the try: a file that is not a database (or is read-only) fails on the first pragma.
    connection.pragma('busy_timeout = 5000')
    connection.pragma('journal_mode = WAL')
    connection.pragma('foreign_keys = ON')
    connection.pragma('synchronous = NORMAL')
  } catch (error) {
    throw new DomainError('db.unreachable', `Cannot open ${describeDatabaseTarget(target)}: ${(error as Error).message}`)
  }
  const db = new Kysely<Database>({dialect: new ImmediateSqliteDialect({database: withStatementCache(connection)}, target.file)})
  return {db, dialect: 'sqlite', target, close: () => db.destroy()}
}

/**
 * Creates the database file `0600` when it does not exist yet (an empty file is an empty
 * database). SQLite would create it `0644` less the umask; it creates `-wal` and `-shm` with
 * the database file's mode, so they are private too. An existing file keeps its mode (`serve`
 * refuses one that others can read). Any other failure is left to SQLite to report.
 */
function createPrivateFile(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600))
  } catch {
    // exists already, or cannot be created: SQLite says why when it opens it
  }
}

async function openPostgres(target: Extract<DatabaseTarget, {dialect: 'postgres'}>, options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  // pg loads only for Postgres: a SQLite command does not pay for it at start.
  const {default: pgModule} = await import('pg')
  const pool = new pgModule.Pool({connectionString: target.connectionString, max: 10, types: portableTypeParsersOf(pgModule), connectionTimeoutMillis: options.connectTimeoutMs})
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {})
  const db = new Kysely<Database>({dialect: new PostgresDialect({pool})})
  try {
    await sql`select 1`.execute(db)
  } catch (error) {
    await db.destroy()
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new DomainError('db.unreachable', `Cannot reach ${describeDatabaseTarget(target)}: ${reason}`)
  }
  return {db, dialect: 'postgres', target, close: () => db.destroy()}
}

const STATEMENT_CACHE_SIZE = 500

/**
 * Kysely prepares every query anew; preparing is most of a small query's cost in SQLite. The
 * same SQL text reuses its prepared statement (safe: better-sqlite3 runs one at a time).
 */
function withStatementCache(connection: BetterSqlite3.Database): SqliteDialectConfig['database'] {
  const statements = new Map<string, BetterSqlite3.Statement>()
  return {
    close: () => connection.close(),
    prepare(sqlText: string) {
      let statement = statements.get(sqlText)
      if (!statement) {
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!)
        statement = connection.prepare(sqlText)
        statements.set(sqlText, statement)
      }
      return statement
    },
  }
}

const TIMESTAMPTZ_OID = 1184
const TIMESTAMP_OID = 1114
const INT8_OID = 20

/** Postgres values converted to what SQLite gives back: ISO strings and plain numbers. */
function portableTypeParsersOf(pgModule: typeof pg): pg.CustomTypesConfig {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === TIMESTAMPTZ_OID || oid === TIMESTAMP_OID) return (value: string) => new Date(value).toISOString()
      if (oid === INT8_OID) return (value: string) => Number(value)
      return pgModule.types.getTypeParser(oid, format)
    },
  } as pg.CustomTypesConfig
}

/**
 * SQLite's default `begin` is deferred: two processes that both read and then write would
 * fail with SQLITE_BUSY on the upgrade, whatever the busy timeout. `begin immediate` takes
 * the write lock up front, so concurrent writers queue on the busy timeout instead.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig
  readonly #file: string

  constructor(config: SqliteDialectConfig, file: string) {
    super(config)
    this.#config = config
    this.#file = file
  }

  override createDriver() {
    return new ImmediateTransactionSqliteDriver(this.#config, this.#file)
  }

  override createAdapter() {
    return new TransactionalDdlSqliteAdapter()
  }
}

/**
 * SQLite runs DDL in transactions; saying so makes Kysely's Migrator migrate inside one
 * `begin immediate` transaction, so concurrent first commands on a fresh file migrate once,
 * and a failed migration leaves nothing half-built.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true
  }
}

/**
 * Write transactions of every connection this process has open on one file, one after another.
 * better-sqlite3 waits for the busy timeout synchronously: a second connection in the same
 * process (another core: a CLI command beside a daemon, two daemons in one test) that began
 * while the first one's transaction awaited something would block the very event loop that
 * transaction needs to commit. Queued here instead, it waits without blocking. Other processes
 * still queue on the busy timeout.
 */
const fileWriteQueues = new Map<string, Promise<void>>()

async function takeFileWriteTurn(file: string): Promise<() => void> {
  const previous = fileWriteQueues.get(file) ?? Promise.resolve()
  let release!: () => void
  const done = new Promise<void>((resolve) => (release = resolve))
  const tail = previous.then(() => done)
  fileWriteQueues.set(file, tail)
  await previous
  return () => {
    release()
    if (fileWriteQueues.get(file) === tail) fileWriteQueues.delete(file)
  }
}

class ImmediateTransactionSqliteDriver extends SqliteDriver {
  readonly #file: string
  readonly #turns = new Map<DatabaseConnection, () => void>()

  constructor(config: SqliteDialectConfig, file: string) {
    super(config)
    this.#file = file
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    // An in-memory database belongs to its one connection: nothing to queue with.
    const release = this.#file === ':memory:' ? () => {} : await takeFileWriteTurn(this.#file)
    try {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'))
    } catch (error) {
      release()
      throw error
    }
    this.#turns.set(connection, release)
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await super.commitTransaction(connection)
    } finally {
      this.#endTurn(connection)
    }
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await super.rollbackTransaction(connection)
    } finally {
      this.#endTurn(connection)
    }
  }

  #endTurn(connection: DatabaseConnection): void {
    this.#turns.get(connection)?.()
    this.#turns.delete(connection)
  }
}
