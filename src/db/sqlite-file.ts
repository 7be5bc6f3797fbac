import BetterSqlite3 from 'better-sqlite3'

// Beside open-database.ts, the other file that knows better-sqlite3: what `backup` and `restore`
// do to a SQLite database file as a whole, outside Kysely.

export interface SqliteBackupProgress {
  totalPages: number
  remainingPages: number
}

/** Pages copied per step at first: 4 MiB of 4 KiB pages between two looks at the event loop. */
const FIRST_STEP_PAGES = 1024

/**
 * Copies the live database `source` into `destination` (an existing empty file, or one to
 * overwrite) with SQLite's online backup API while other processes read and write it. Each step
 * copies a batch of pages inside a read transaction; a write by another connection between two
 * steps makes SQLite start the copy over, so what lands in `destination` is one consistent
 * snapshot. A busy writer could restart a stepwise copy forever, so every restart doubles the
 * step until one step copies the whole database (a single read transaction, which in WAL mode
 * never blocks writers). Returns the number of pages copied.
 */
export async function backupSqliteFile(source: string, destination: string, onProgress?: (progress: SqliteBackupProgress) => void): Promise<{pages: number}> {
  const connection = new BetterSqlite3(source, {fileMustExist: true})
  try {
    connection.pragma('busy_timeout = 5000')
    let step = FIRST_STEP_PAGES
    let lastRemaining = Number.POSITIVE_INFINITY
    const result = await connection.backup(destination, {
      progress(progress) {
        // Remaining pages going up again: another connection wrote, and the copy restarted.
        if (progress.remainingPages > lastRemaining) step = Math.min(step * 2, 0x7fffffff)
        lastRemaining = progress.remainingPages
        onProgress?.(progress)
        return step
      },
    })
    onProgress?.({totalPages: result.totalPages, remainingPages: 0})
    return {pages: result.totalPages}
  } finally {
    connection.close()
  }
}

export interface SqliteFileInspection {
  /** `ok`, or the first problems `pragma integrity_check` reported. */
  integrity: string[]
  /** The names in saasctl_migration, or null when the file has no such table (not a saas-ctl database). */
  migrations: string[] | null
}

/**
 * Opens a database file that must exist and reports its integrity and the migrations it has
 * run. Raises what SQLite raises for a file that is not a database (SQLITE_NOTADB).
 */
export function inspectSqliteFile(file: string): SqliteFileInspection {
  const connection = new BetterSqlite3(file, {fileMustExist: true})
  try {
    const integrity = (connection.pragma('integrity_check(20)') as Array<{integrity_check: string}>).map((row) => row.integrity_check)
    const table = connection.prepare(`select 1 from sqlite_master where type = 'table' and name = 'saasctl_migration'`).get()
    const migrations = table ? (connection.prepare('select name from saasctl_migration order by name').all() as Array<{name: string}>).map((row) => row.name) : null
    return {integrity, migrations}
  } finally {
    connection.close()
  }
}

export interface SqliteFileLock {
  /** Releases the lock (rolls back nothing: nothing was written) and closes the connection. */
  release(): void
}

export interface DaemonPresence {
  daemonId: string
  /** Start of the newest rate-limit window (ms since the epoch) in which the daemon wrote its presence row. */
  windowStart: number
}

export type SqliteLockAttempt = {locked: true; lock: SqliteFileLock} | {locked: false; presence: DaemonPresence[]}

/**
 * Takes the database file for this process alone, so that it can be replaced: switching it out
 * of WAL mode (which checkpoints it and removes its `-wal` and `-shm` files) succeeds only when
 * no other connection has it open, since every connection to a WAL database holds a shared lock
 * on it for as long as it is open — an idle daemon included. Then `begin exclusive` keeps
 * others out (a process that opens it meanwhile waits on its busy timeout) until release().
 * When another process has it open, reports the daemons whose rate-limit presence rows
 * (rate_limit_usage, org_id '') are in the window `sinceWindowStart` or later, for the message.
 */
export function lockSqliteFileExclusively(file: string, sinceWindowStart: number, hooks: {afterJournalModeSwitch?: () => void} = {}): SqliteLockAttempt {
  const connection = new BetterSqlite3(file, {fileMustExist: true})
  try {
    // A command closing its connection this very moment gets a moment; an open one never lets go.
    connection.pragma('busy_timeout = 1000')
    const presence = readPresence(connection, sinceWindowStart)
    let mode: unknown
    try {
      mode = connection.pragma('journal_mode = DELETE', {simple: true})
    } catch (error) {
      if ((error as {code?: string}).code !== 'SQLITE_BUSY') throw error
      mode = null
    }
    if (mode !== 'delete') {
      connection.close()
      return {locked: false, presence}
    }
    hooks.afterJournalModeSwitch?.()
    connection.exec('begin exclusive')
    // A read under the exclusive transaction takes the file lock now, not at the first statement.
    connection.prepare('select count(*) from sqlite_master').get()
    // Another process may have opened the file and put it back into WAL mode between the switch
    // and the lock; in WAL mode `begin exclusive` does not keep readers out.
    if (!stillRollbackJournal(connection)) {
      connection.exec('rollback')
      connection.close()
      return {locked: false, presence}
    }
    return {
      locked: true,
      lock: {
        release() {
          if (connection.inTransaction) connection.exec('rollback')
          connection.close()
        },
      },
    }
  } catch (error) {
    if (connection.open) connection.close()
    throw error
  }
}

/** Whether the database, read under the transaction just begun, is still in rollback-journal (delete) mode. */
export function stillRollbackJournal(connection: BetterSqlite3.Database): boolean {
  return connection.pragma('journal_mode', {simple: true}) === 'delete'
}

function readPresence(connection: BetterSqlite3.Database, sinceWindowStart: number): DaemonPresence[] {
  const table = connection.prepare(`select 1 from sqlite_master where type = 'table' and name = 'rate_limit_usage'`).get()
  if (!table) return []
  const rows = connection
    .prepare(`select daemon_id, max(window_start) as window_start from rate_limit_usage where org_id = '' and window_start >= ? group by daemon_id order by daemon_id`)
    .all(sinceWindowStart) as Array<{daemon_id: string; window_start: number}>
  return rows.map((row) => ({daemonId: row.daemon_id, windowStart: Number(row.window_start)}))
}
