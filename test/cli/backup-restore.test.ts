import {existsSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startDaemonProcess, waitUntil, type DaemonProcess} from '../helpers/daemon-process.js'
import {createCliDatabase, createCliRunner, type CliRunner} from '../helpers/run-cli.js'
import type {TestDatabase} from '../helpers/test-database.js'

// `backup` and `restore` as real processes: SQLite backs up and restores files beside a running
// daemon and takes file locks, which in one process would not be what they are between
// processes. Postgres only prints the pg_dump / pg_restore commands, so its tests need no
// Postgres server and run in-process.

const modeOf = (file: string) => statSync(file).mode & 0o777
/** A table of the test's own beside the product's: rows 1, 2, 3, … each committed on its own. */
const WRITER_TABLE = 'backup_test_row'

function readBackup(file: string): {integrity: string; orgSlugs: string[]; writerRows: number[]} {
  const connection = new BetterSqlite3(file, {readonly: true, fileMustExist: true})
  try {
    const integrity = connection.pragma('integrity_check', {simple: true}) as string
    const orgSlugs = (connection.prepare('select slug from organization order by slug').all() as Array<{slug: string}>).map((row) => row.slug)
    const hasWriterTable = connection.prepare(`select 1 from sqlite_master where name = ?`).get(WRITER_TABLE) !== undefined
    const writerRows = !hasWriterTable ? [] : (connection.prepare(`select id from ${WRITER_TABLE} where padding is null order by id`).all() as Array<{id: number}>).map((row) => row.id)
    return {integrity, orgSlugs, writerRows}
  } finally {
    connection.close()
  }
}

describe('CLI backup and restore [sqlite]', () => {
  let database: TestDatabase
  let cli: CliRunner
  const slugs = ['alpha', 'beta', 'gamma']

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase('sqlite'))
    for (const slug of slugs) expect((await cli.run(['org', 'create', '--name', `Org ${slug}`, '--slug', slug])).exitCode).toBe(0)
  })
  afterAll(async () => database?.drop())

  const backupPath = () => path.join(cli.cwd, 'nightly.db')

  it('backs up while a daemon runs and another connection keeps writing: the backup passes integrity_check and holds every row committed before it; file and key 0600', async () => {
    const writerConnection = new BetterSqlite3(database.url, {fileMustExist: true})
    writerConnection.pragma('busy_timeout = 5000')
    // Enough pages that the copy takes several steps, so writes land between them (and restart it).
    writerConnection.exec(`create table ${WRITER_TABLE} (id integer primary key, padding text)`)
    const insertPadding = writerConnection.prepare(`insert into ${WRITER_TABLE} (id, padding) values (?, ?)`)
    writerConnection.transaction(() => {
      for (let index = 0; index < 3000; index++) insertPadding.run(1_000_000 + index, 'x'.repeat(2000))
    })()
    const insertRow = writerConnection.prepare(`insert into ${WRITER_TABLE} (id) values (?)`)
    const daemon = await startDaemonProcess(database.url, {env: {SAASCTL_RATE_LIMIT_SYNC_MS: '100'}})
    try {
      let written = 0
      let writing = true
      const writer = (async () => {
        while (writing) {
          insertRow.run(written + 1)
          written++
          await new Promise((resolve) => setImmediate(resolve))
        }
      })()
      while (written < 20) await new Promise((resolve) => setTimeout(resolve, 10))
      const committedBefore = written
      const backedUp = await cli.run(['backup', backupPath(), '--json'])
      const committedAfter = written
      writing = false
      await writer
      expect(backedUp.exitCode, backedUp.stderr).toBe(0)
      expect(backedUp.json).toMatchObject({file: backupPath(), secret_key_file: `${backupPath()}.secret-key`})
      expect(backedUp.json.bytes).toBe(statSync(backupPath()).size)
      expect(backedUp.json.pages).toBeGreaterThan(1000)
      // The writer kept committing while the backup ran.
      expect(committedAfter).toBeGreaterThan(committedBefore)

      const copy = readBackup(backupPath())
      expect(copy.integrity).toBe('ok')
      expect(copy.orgSlugs).toEqual(slugs)
      // One consistent snapshot: the writer's rows 1..n without a gap, n at least what was committed before the backup began.
      expect(copy.writerRows.length).toBeGreaterThanOrEqual(committedBefore)
      expect(copy.writerRows).toEqual(Array.from({length: copy.writerRows.length}, (_, index) => index + 1))
      expect(modeOf(backupPath())).toBe(0o600)
      expect(modeOf(`${backupPath()}.secret-key`)).toBe(0o600)
      expect(readFileSync(`${backupPath()}.secret-key`, 'utf8')).toBe(readFileSync(`${database.url}.secret-key`, 'utf8'))
      expect(daemon.process.exitCode).toBeNull()
    } finally {
      await daemon.stop()
      writerConnection.exec(`drop table ${WRITER_TABLE}`)
      writerConnection.close()
    }
  })

  it('refuses to overwrite an existing backup without --force (the file is left as it was); --force replaces it', async () => {
    const file = path.join(cli.cwd, 'taken.db')
    writeFileSync(file, 'keep me', {mode: 0o600})
    const refused = await cli.run(['backup', file, '--json'])
    expect(refused.exitCode).toBe(73)
    expect(refused.json.error.code).toBe('backup.file_exists')
    expect(readFileSync(file, 'utf8')).toBe('keep me')
    expect(existsSync(`${file}.secret-key`)).toBe(false)

    // The key file beside it counts too.
    const other = path.join(cli.cwd, 'other.db')
    writeFileSync(`${other}.secret-key`, 'old key', {mode: 0o600})
    const refusedKey = await cli.run(['backup', other, '--json'])
    expect(refusedKey.json.error.code).toBe('backup.file_exists')
    expect(existsSync(other)).toBe(false)

    const nowhere = await cli.run(['backup', path.join(cli.cwd, 'no-such-dir', 'b.db'), '--json'])
    expect(nowhere.exitCode).toBe(66)
    expect(nowhere.json.error.code).toBe('backup.directory_missing')

    const forced = await cli.run(['backup', file, '--force', '--json'])
    expect(forced.exitCode, forced.stderr).toBe(0)
    expect(readBackup(file).orgSlugs).toEqual(slugs)
    expect(modeOf(file)).toBe(0o600)
  })

  it('restores into a fresh path: org list shows the orgs; database and key file 0600; without --yes and no terminal it asks and refuses', async () => {
    const target = path.join(cli.cwd, 'restored', 'app.db')
    const restoredCli = createCliRunner(target)
    // The directory must exist; the database need not.
    mkdirSync(path.dirname(target))

    const unconfirmed = await restoredCli.run(['restore', backupPath(), '--json'])
    expect(unconfirmed.exitCode).toBe(64)
    expect(unconfirmed.json.error.code).toBe('confirmation.required')
    expect(existsSync(target)).toBe(false)

    const restored = await restoredCli.run(['restore', backupPath(), '--yes', '--json'])
    expect(restored.exitCode, restored.stderr).toBe(0)
    expect(restored.json).toMatchObject({database_file: target, replaces_existing: false, secret_key: 'restored', secret_key_file: `${target}.secret-key`})
    expect(modeOf(target)).toBe(0o600)
    expect(modeOf(`${target}.secret-key`)).toBe(0o600)
    expect(readFileSync(`${target}.secret-key`, 'utf8')).toBe(readFileSync(`${backupPath()}.secret-key`, 'utf8'))

    const listed = await restoredCli.run(['org', 'list', '--json'])
    expect(listed.exitCode).toBe(0)
    expect(listed.json.map((org: {slug: string}) => org.slug).sort()).toEqual(slugs)
    // The restored key opens what the backup sealed: the audit chain's signed checkpoint verifies.
    const verified = await restoredCli.run(['audit', 'verify', '--json'])
    expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0)
    // The restore is the newest event of the restored log, by the operator, naming the backup.
    const newest = await restoredCli.run(['audit', 'tail', '-n', '1', '--json'])
    expect(newest.json).toMatchObject([{action: 'database.restored', actor: {type: 'cli'}, metadata: {backup_file: backupPath()}}])
  })

  it('refuses to restore over a database a daemon is running on (real process), names it, and changes nothing; once stopped the restore goes through', async () => {
    const target = path.join(cli.cwd, 'live.db')
    const liveCli = createCliRunner(target)
    expect((await liveCli.run(['org', 'create', '--name', 'Live', '--slug', 'live'])).exitCode).toBe(0)
    const daemon: DaemonProcess = await startDaemonProcess(target)
    let stopped = false
    try {
      // Its first rate-limit sync, at start, writes its presence row.
      await waitUntil(async () => {
        const connection = new BetterSqlite3(target, {fileMustExist: true})
        try {
          return connection.prepare(`select 1 from rate_limit_usage where org_id = ''`).get() !== undefined
        } finally {
          connection.close()
        }
      }, 10_000)
      const refused = await liveCli.run(['restore', backupPath(), '--yes', '--json'])
      expect(refused.exitCode).toBe(69)
      expect(refused.json.error.code).toBe('restore.database_in_use')
      // The daemon's rate-limit presence row names it.
      expect(refused.json.error.details.daemons.length).toBeGreaterThanOrEqual(1)
      const listed = await liveCli.run(['org', 'list', '--json'])
      expect(listed.json.map((org: {slug: string}) => org.slug)).toEqual(['live'])
      expect((await fetch(`${daemon.url}/health`)).ok).toBe(true)
      await daemon.stop()
      stopped = true
    } finally {
      if (!stopped) await daemon.stop()
    }
    const restored = await liveCli.run(['restore', backupPath(), '--yes', '--json'])
    expect(restored.exitCode, restored.stderr).toBe(0)
    expect(restored.json).toMatchObject({replaces_existing: true, secret_key: 'restored'})
    // The old database's -wal and -shm went with it.
    expect(existsSync(`${target}-wal`)).toBe(false)
    const listed = await liveCli.run(['org', 'list', '--json'])
    expect(listed.json.map((org: {slug: string}) => org.slug).sort()).toEqual(slugs)
    // A daemon starts on the restored database.
    const again = await startDaemonProcess(target)
    await again.stop()
  })

  it('refuses a backup that is not a saas-ctl database, fails integrity, or is newer than this version', async () => {
    const target = path.join(cli.cwd, 'checks.db')
    const checksCli = createCliRunner(target)
    const garbage = path.join(cli.cwd, 'garbage.db')
    writeFileSync(garbage, 'this is not a database, just text that is long enough to have a header'.repeat(20))
    const notSqlite = await checksCli.run(['restore', garbage, '--yes', '--json'])
    expect(notSqlite.exitCode).toBe(65)
    expect(notSqlite.json.error.code).toBe('backup.invalid')

    const plain = path.join(cli.cwd, 'plain.db')
    const plainDb = new BetterSqlite3(plain)
    plainDb.exec('create table note (text)')
    plainDb.close()
    const notOurs = await checksCli.run(['restore', plain, '--yes', '--json'])
    expect(notOurs.json.error.code).toBe('backup.invalid')

    // A backup damaged after it was made: pages in the middle overwritten.
    const damaged = path.join(cli.cwd, 'damaged.db')
    expect((await cli.run(['backup', damaged])).exitCode).toBe(0)
    const bytes = readFileSync(damaged)
    bytes.fill(0x5a, 4096 * 4, 4096 * 12)
    writeFileSync(damaged, bytes)
    const corrupt = await checksCli.run(['restore', damaged, '--yes', '--json'])
    expect(corrupt.exitCode).toBe(65)
    expect(corrupt.json.error.code).toBe('backup.invalid')

    const future = path.join(cli.cwd, 'future.db')
    expect((await cli.run(['backup', future])).exitCode).toBe(0)
    const futureDb = new BetterSqlite3(future)
    futureDb.prepare('insert into saasctl_migration (name, timestamp) values (?, ?)').run('9999-from-the-future', new Date().toISOString())
    futureDb.close()
    const tooNew = await checksCli.run(['restore', future, '--yes', '--json'])
    expect(tooNew.exitCode).toBe(65)
    expect(tooNew.json.error.code).toBe('backup.too_new')

    const missing = await checksCli.run(['restore', path.join(cli.cwd, 'nope.db'), '--yes', '--json'])
    expect(missing.exitCode).toBe(66)
    expect(missing.json.error.code).toBe('backup.not_found')
    // None of these left anything at the target.
    expect(existsSync(target)).toBe(false)
  })

  it('refuses a backup without its key file over a database that has one, unless --keep-secret-key', async () => {
    const keyless = path.join(cli.cwd, 'keyless.db')
    expect((await cli.run(['backup', keyless])).exitCode).toBe(0)
    unlinkSync(`${keyless}.secret-key`)
    const target = path.join(cli.cwd, 'keyed.db')
    const keyedCli = createCliRunner(target)
    expect((await keyedCli.run(['org', 'create', '--name', 'Keyed', '--slug', 'keyed'])).exitCode).toBe(0)
    const key = readFileSync(`${target}.secret-key`, 'utf8')

    const refused = await keyedCli.run(['restore', keyless, '--yes', '--json'])
    expect(refused.exitCode).toBe(73)
    expect(refused.json.error.code).toBe('restore.secret_key_missing')
    expect((await keyedCli.run(['org', 'list', '--json'])).json.map((org: {slug: string}) => org.slug)).toEqual(['keyed'])

    const kept = await keyedCli.run(['restore', keyless, '--yes', '--keep-secret-key', '--json'])
    expect(kept.exitCode, kept.stderr).toBe(0)
    expect(kept.json.secret_key).toBe('kept')
    expect(readFileSync(`${target}.secret-key`, 'utf8')).toBe(key)
    expect((await keyedCli.run(['org', 'list', '--json'])).json.map((org: {slug: string}) => org.slug).sort()).toEqual(slugs)
  })
})

describe('CLI backup and restore [postgres]', () => {
  // Neither command connects on Postgres, so any URL will do; this one carries a password.
  const url = 'postgres://app:s3cret-pw@db.internal:5432/saas?sslmode=require'
  const cli = createCliRunner(url, {inProcess: true})

  it('backup prints the pg_dump command without the password, writes nothing, and reminds to keep secret_key', async () => {
    const file = path.join(cli.cwd, 'saas.dump')
    const printed = await cli.run(['backup', file])
    expect(printed.exitCode).toBe(0)
    expect(printed.stdout).toContain(`pg_dump --format=custom --no-owner --file=${file} --dbname='postgres://app@db.internal:5432/saas?sslmode=require'`)
    expect(printed.stdout).toContain('PGPASSWORD')
    expect(printed.stdout).toContain('secret_key')
    expect(printed.stdout + printed.stderr).not.toContain('s3cret-pw')
    expect(existsSync(file)).toBe(false)

    const json = await cli.run(['backup', file, '--json'])
    expect(json.json).toMatchObject({dialect: 'postgres', file, password_env: 'PGPASSWORD', secret_key_file: null})
    expect(json.json.command).not.toContain('s3cret-pw')
  })

  it('restore prints the pg_restore command without the password and changes nothing', async () => {
    const restored = await cli.run(['restore', 'saas.dump', '--json'])
    expect(restored.exitCode).toBe(0)
    expect(restored.json.command).toMatch(/^pg_restore --clean --if-exists --no-owner --single-transaction --dbname='postgres:\/\/app@db\.internal:5432\/saas\?sslmode=require' saas\.dump$/)
    expect(restored.stdout).not.toContain('s3cret-pw')
  })
})
