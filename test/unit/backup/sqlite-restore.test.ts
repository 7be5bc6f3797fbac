import {existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {MIGRATIONS} from '../../../migrations/index.js'
import {backupSqliteDatabase} from '../../../src/backup/sqlite-backup.js'
import {restoreSqliteDatabase, type SqliteRestoreInput} from '../../../src/backup/sqlite-restore.js'
import {lockSqliteFileExclusively, stillRollbackJournal} from '../../../src/db/sqlite-file.js'

// restoreSqliteDatabase and lockSqliteFileExclusively in-process, where another connection can be
// slipped in between a check and the lock (SQLite only: restore is SQLite-only).

let directory: string
beforeEach(() => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'saasctl-restore-'))
})
afterEach(() => rmSync(directory, {recursive: true, force: true}))

/** A small file that passes the restore's checks: a saas-ctl migration table with a known migration, and a marker row. */
function makeBackup(file: string, marker: string): void {
  const connection = new BetterSqlite3(file)
  try {
    connection.exec('create table saasctl_migration (name text primary key, timestamp text)')
    connection.prepare('insert into saasctl_migration (name, timestamp) values (?, ?)').run(Object.keys(MIGRATIONS)[0], new Date().toISOString())
    connection.exec('create table marker (value text)')
    connection.prepare('insert into marker (value) values (?)').run(marker)
  } finally {
    connection.close()
  }
}

function markerOf(file: string): string | undefined {
  const connection = new BetterSqlite3(file, {fileMustExist: true})
  try {
    const hasMarker = connection.prepare(`select 1 from sqlite_master where name = 'marker'`).get()
    return hasMarker ? (connection.prepare('select value from marker').get() as {value: string}).value : undefined
  } finally {
    connection.close()
  }
}

function input(overrides: Partial<SqliteRestoreInput>): SqliteRestoreInput {
  return {
    backupFile: path.join(directory, 'backup.db'),
    databaseFile: path.join(directory, 'live.db'),
    keepSecretKey: false,
    secretKeyConfigured: false,
    force: false,
    confirm: async () => {},
    now: new Date(),
    ...overrides,
  }
}

describe('restoreSqliteDatabase', () => {
  it('F1: a database a daemon creates while the prompt waits is taken under the lock, not overwritten: refused while it is open', async () => {
    const backup = path.join(directory, 'backup.db')
    const live = path.join(directory, 'live.db')
    makeBackup(backup, 'from-backup')
    let daemon: BetterSqlite3.Database | null = null
    try {
      const restore = restoreSqliteDatabase(
        input({
          confirm: async (plan) => {
            expect(plan.replacesExisting).toBe(false)
            // The "daemon" creates the database in WAL mode and keeps it open, having written to it.
            daemon = new BetterSqlite3(live)
            daemon.pragma('journal_mode = WAL')
            daemon.exec(`create table marker (value text); insert into marker (value) values ('daemon-write')`)
          },
        }),
      )
      await expect(restore).rejects.toMatchObject({code: 'restore.database_in_use'})
      expect(markerOf(live)).toBe('daemon-write')
    } finally {
      ;(daemon as BetterSqlite3.Database | null)?.close()
    }
  })

  it('F1: a file created during the prompt and no longer open is replaced (under the lock)', async () => {
    const backup = path.join(directory, 'backup.db')
    const live = path.join(directory, 'live.db')
    makeBackup(backup, 'from-backup')
    const plan = await restoreSqliteDatabase(input({confirm: async () => makeBackup(live, 'created-meanwhile')}))
    expect(plan.replacesExisting).toBe(true)
    expect(markerOf(live)).toBe('from-backup')
  })

  it('F3: a database another connection holds locked is in use — also with --force, which never replaces it', async () => {
    const backup = path.join(directory, 'backup.db')
    const live = path.join(directory, 'live.db')
    makeBackup(backup, 'from-backup')
    makeBackup(live, 'live')
    const holder = new BetterSqlite3(live, {fileMustExist: true})
    try {
      holder.exec('begin exclusive')
      holder.prepare('select count(*) from sqlite_master').get()
      for (const force of [false, true]) {
        await expect(restoreSqliteDatabase(input({force}))).rejects.toMatchObject({code: 'restore.database_in_use'})
      }
    } finally {
      if (holder.inTransaction) holder.exec('rollback')
      holder.close()
    }
    expect(markerOf(live)).toBe('live')
  })

  it('F3: --force replaces a file that is not a SQLite database (NOTADB), and without it the refusal suggests --force', async () => {
    const backup = path.join(directory, 'backup.db')
    const live = path.join(directory, 'live.db')
    makeBackup(backup, 'from-backup')
    writeFileSync(live, 'this is not a database, but long enough to have a header of some sort..........................................')
    const refused = restoreSqliteDatabase(input({}))
    await expect(refused).rejects.toMatchObject({code: 'restore.target_unreadable'})
    await expect(refused).rejects.toThrow(/--force/)
    await restoreSqliteDatabase(input({force: true}))
    expect(markerOf(live)).toBe('from-backup')
    expect(existsSync(`${live}-wal`)).toBe(false)
  })
})

describe('restoreSqliteDatabase: key files', () => {
  it('F4: a backup key file that holds no 32-byte key is refused (restore.secret_key_invalid) and nothing changes', async () => {
    const backup = path.join(directory, 'backup.db')
    const live = path.join(directory, 'live.db')
    makeBackup(backup, 'from-backup')
    makeBackup(live, 'live')
    writeFileSync(`${backup}.secret-key`, 'not a key\n')
    await expect(restoreSqliteDatabase(input({}))).rejects.toMatchObject({code: 'restore.secret_key_invalid'})
    expect(markerOf(live)).toBe('live')
    expect(existsSync(`${live}.secret-key`)).toBe(false)
  })

  it('F4: a kept key file (--keep-secret-key) that holds no key is refused; a good one is restored', async () => {
    const backup = path.join(directory, 'backup.db')
    const live = path.join(directory, 'live.db')
    makeBackup(backup, 'from-backup')
    makeBackup(live, 'live')
    writeFileSync(`${live}.secret-key`, 'garbage')
    await expect(restoreSqliteDatabase(input({keepSecretKey: true}))).rejects.toMatchObject({code: 'restore.secret_key_invalid'})
    expect(markerOf(live)).toBe('live')
    const goodKey = Buffer.alloc(32, 3).toString('base64')
    writeFileSync(`${backup}.secret-key`, `${goodKey}\n`)
    const plan = await restoreSqliteDatabase(input({}))
    expect(plan.secretKey).toBe('restored')
    expect(readFileSync(`${live}.secret-key`, 'utf8').trim()).toBe(goodKey)
    expect(markerOf(live)).toBe('from-backup')
  })
})

describe('backupSqliteDatabase: key files', () => {
  const goodKey = Buffer.alloc(32, 5).toString('base64')

  it('F4: with secret_key configured no key file is copied', async () => {
    const live = path.join(directory, 'live.db')
    makeBackup(live, 'live')
    writeFileSync(`${live}.secret-key`, goodKey)
    const result = await backupSqliteDatabase({databaseFile: live, file: path.join(directory, 'out.db'), overwrite: false, secretKeyConfigured: true})
    expect(result.secretKeyFile).toBeNull()
    expect(existsSync(path.join(directory, 'out.db.secret-key'))).toBe(false)
    expect(markerOf(path.join(directory, 'out.db'))).toBe('live')
  })

  it('F4: the key file is copied after the snapshot: one made while the copy runs is in the backup', async () => {
    const live = path.join(directory, 'live.db')
    makeBackup(live, 'live')
    let made = false
    const result = await backupSqliteDatabase({
      databaseFile: live,
      file: path.join(directory, 'out.db'),
      overwrite: false,
      onProgress: () => {
        if (!made) writeFileSync(`${live}.secret-key`, goodKey)
        made = true
      },
    })
    expect(made).toBe(true)
    expect(result.secretKeyFile).toBe(path.join(directory, 'out.db.secret-key'))
    expect(readFileSync(path.join(directory, 'out.db.secret-key'), 'utf8')).toBe(goodKey)
  })

  it('F4: --force over a backup with a key file, from a database without one, removes the stale key file', async () => {
    const live = path.join(directory, 'live.db')
    const out = path.join(directory, 'out.db')
    makeBackup(live, 'live')
    writeFileSync(out, 'old backup')
    writeFileSync(`${out}.secret-key`, goodKey)
    const result = await backupSqliteDatabase({databaseFile: live, file: out, overwrite: true})
    expect(result.secretKeyFile).toBeNull()
    expect(existsSync(`${out}.secret-key`)).toBe(false)
    expect(markerOf(out)).toBe('live')
  })
})

describe('backup and restore: the database\'s own files, however spelled', () => {
  it('F5: backup refuses the database through a symbolic link to its directory or a hard link, and its -wal, -shm, -journal and .secret-key', async () => {
    const live = path.join(directory, 'live.db')
    makeBackup(live, 'live')
    mkdirSync(path.join(directory, 'sub'))
    symlinkSync(directory, path.join(directory, 'alias'))
    linkSync(live, path.join(directory, 'hard.db'))
    const targets = [
      path.join(directory, 'alias', 'live.db'),
      path.join(directory, 'sub', '..', 'live.db'),
      path.join(directory, 'hard.db'),
      ...['-wal', '-shm', '-journal', '.secret-key'].map((suffix) => path.join(directory, 'alias', `live.db${suffix}`)),
    ]
    for (const file of targets) {
      await expect(backupSqliteDatabase({databaseFile: live, file, overwrite: true}), file).rejects.toMatchObject({code: 'backup.unsupported'})
    }
    expect(markerOf(live)).toBe('live')
    for (const suffix of ['-wal', '-shm', '-journal', '.secret-key']) expect(existsSync(`${live}${suffix}`)).toBe(false)
  })

  it('F5: restore refuses the database itself as the backup through a symbolic link to its directory', async () => {
    const live = path.join(directory, 'live.db')
    makeBackup(live, 'live')
    symlinkSync(directory, path.join(directory, 'alias'))
    await expect(restoreSqliteDatabase(input({backupFile: path.join(directory, 'alias', 'live.db')}))).rejects.toMatchObject({code: 'backup.unsupported'})
    expect(markerOf(live)).toBe('live')
  })
})

describe('backup and restore: file-system errors', () => {
  it('F6: backup --force onto a directory is backup.io_error naming the path and EISDIR, not an internal error; no temporary file is left', async () => {
    const live = path.join(directory, 'live.db')
    const out = path.join(directory, 'out.db')
    makeBackup(live, 'live')
    mkdirSync(out)
    const failed = backupSqliteDatabase({databaseFile: live, file: out, overwrite: true})
    await expect(failed).rejects.toMatchObject({code: 'backup.io_error', details: {path: out, errno: 'EISDIR'}})
    await expect(failed).rejects.toThrow(/EISDIR/)
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('F6: restore --force onto a directory at the database path is restore.io_error naming the path and EISDIR', async () => {
    const backup = path.join(directory, 'backup.db')
    const live = path.join(directory, 'live.db')
    makeBackup(backup, 'from-backup')
    mkdirSync(live)
    await expect(restoreSqliteDatabase(input({force: true}))).rejects.toMatchObject({code: 'restore.io_error', details: {path: live, errno: 'EISDIR'}})
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })
})

describe('lockSqliteFileExclusively', () => {
  it('F2: another connection switching the file back to WAL between the switch and the lock makes it not locked', () => {
    const live = path.join(directory, 'live.db')
    makeBackup(live, 'live')
    let other: BetterSqlite3.Database | null = null
    try {
      const attempt = lockSqliteFileExclusively(live, 0, {
        afterJournalModeSwitch: () => {
          other = new BetterSqlite3(live, {fileMustExist: true})
          expect(other.pragma('journal_mode = WAL', {simple: true})).toBe('wal')
        },
      })
      if (attempt.locked) attempt.lock.release()
      expect(attempt.locked).toBe(false)
    } finally {
      ;(other as BetterSqlite3.Database | null)?.close()
    }
  })

  it('F2: stillRollbackJournal reads the mode under the transaction', () => {
    const live = path.join(directory, 'live.db')
    makeBackup(live, 'live')
    const connection = new BetterSqlite3(live, {fileMustExist: true})
    try {
      expect(stillRollbackJournal(connection)).toBe(true)
      connection.pragma('journal_mode = WAL')
      expect(stillRollbackJournal(connection)).toBe(false)
    } finally {
      connection.close()
    }
  })

  it('locks an idle file in rollback-journal mode', () => {
    const live = path.join(directory, 'live.db')
    makeBackup(live, 'live')
    const attempt = lockSqliteFileExclusively(live, 0)
    expect(attempt.locked).toBe(true)
    if (attempt.locked) attempt.lock.release()
  })
})
