import {chmodSync, existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import pg from 'pg'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {createCliDatabase, createCliRunner, type CliRunner} from '../helpers/run-cli.js'
import {startSmtpSink, type SmtpSink} from '../helpers/smtp-sink.js'
import {createTestDatabase, describeEachDialect, TEST_SECRET_KEY, type TestDatabase} from '../helpers/test-database.js'

// The checks run in-process. The file-permission checks run the real binary: doctor is the one
// command that fails by setting process.exitCode without an error, and they show the binary's
// exit status carries it.

const CHECKS = ['config', 'database', 'migrations', 'file_permissions', 'secret_key', 'signing_keys', 'smtp', 'clock']

/**
 * A runner on the database whose working directory holds this config file (0600 unless told
 * otherwise); in-process unless `inProcess` is false.
 */
function runnerWithConfig(databaseUrl: string, settings: Record<string, unknown>, mode = 0o600, inProcess = true): CliRunner {
  const runner = createCliRunner(databaseUrl, {inProcess})
  writeFileSync(path.join(runner.cwd, 'saas-ctl.config.json'), JSON.stringify(settings), {mode})
  chmodSync(path.join(runner.cwd, 'saas-ctl.config.json'), mode)
  return runner
}

function statusOf(json: {check: string; status: string}[], check: string): string | undefined {
  return json.find((result) => result.check === check)?.status
}

describeEachDialect('CLI doctor', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner
  let sink: SmtpSink

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect, {inProcess: true}))
    // The daemon's first start makes the active signing key; `keys rotate` does too.
    expect((await cli.run(['keys', 'rotate'])).exitCode).toBe(0)
    sink = await startSmtpSink()
  })
  afterAll(async () => {
    await sink?.stop()
    await database?.drop()
  })

  it('a healthy database: exit 0, one plain line per check (no colour off a terminal), none failing', async () => {
    const result = await cli.run(['doctor'])
    expect(result.exitCode).toBe(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines.map((line) => line.split(/\s+/)[1])).toEqual(CHECKS)
    for (const line of lines) expect(line).toMatch(/^(ok  |warn) /)
    expect(result.stdout).not.toContain('\u001b[')
    expect(result.stdout).not.toContain('✓')
  })

  it('--json: [{check, status: ok|warn|fail, detail}] in order; the secret key never appears', async () => {
    const result = await cli.run(['doctor', '--json'])
    expect(result.exitCode).toBe(0)
    expect(result.json.map((entry: {check: string}) => entry.check)).toEqual(CHECKS)
    for (const entry of result.json) {
      expect(Object.keys(entry).sort()).toEqual(['check', 'detail', 'status'])
      expect(['ok', 'warn']).toContain(entry.status)
      expect(typeof entry.detail).toBe('string')
    }
    const statuses = Object.fromEntries(result.json.map((entry: {check: string; status: string}) => [entry.check, entry.status]))
    expect(statuses).toEqual({config: 'ok', database: 'ok', migrations: 'ok', file_permissions: 'ok', secret_key: 'ok', signing_keys: 'ok', smtp: 'warn', clock: 'ok'})
    expect(result.json.find((entry: {check: string}) => entry.check === 'smtp').detail).toMatch(/no smtp_url.*\.eml.*writable/)
    const secret = dialect === 'postgres' ? TEST_SECRET_KEY : readFileSync(`${database.url}.secret-key`, 'utf8').trim()
    expect(result.stdout + result.stderr).not.toContain(secret)
  })

  it('SMTP: the relay up answers EHLO and the login (ok); down, the check fails and doctor exits 1; the password never appears', async () => {
    const smtpCli = runnerWithConfig(database.url, {smtp_url: sink.url})
    const up = await smtpCli.run(['doctor', '--json'])
    expect(up.exitCode).toBe(0)
    expect(up.json.find((entry: {check: string}) => entry.check === 'smtp')).toMatchObject({status: 'ok', detail: expect.stringContaining(`127.0.0.1:${sink.port}`)})
    await sink.down()
    try {
      const down = await smtpCli.run(['doctor', '--json'])
      expect(down.exitCode).toBe(1)
      expect(statusOf(down.json, 'smtp')).toBe('fail')
      expect(down.json.filter((entry: {status: string}) => entry.status === 'fail').map((entry: {check: string}) => entry.check)).toEqual(['smtp'])
      const human = await smtpCli.run(['doctor'])
      expect(human.exitCode).toBe(1)
      expect(human.stdout).toMatch(/^FAIL smtp /m)
      expect(up.stdout + down.stdout + human.stdout + human.stderr).not.toContain(sink.password)
    } finally {
      await sink.up()
    }
  })

  it('a config file group or others can read fails file_permissions (exit 1); 0600 passes', async () => {
    const exposed = runnerWithConfig(database.url, {log_level: 'warn'}, 0o644, false)
    const result = await exposed.run(['doctor', '--json'])
    expect(result.exitCode).toBe(1)
    expect(result.json.find((entry: {check: string}) => entry.check === 'file_permissions')).toMatchObject({status: 'fail', detail: expect.stringContaining('saas-ctl.config.json (mode 0644)')})
    chmodSync(path.join(exposed.cwd, 'saas-ctl.config.json'), 0o600)
    const fixed = await exposed.run(['doctor', '--json'])
    expect(fixed.exitCode).toBe(0)
    expect(statusOf(fixed.json, 'file_permissions')).toBe('ok')
  })

  it('a bad setting fails the config check with its message, not a crash; the rest say they were not checked', async () => {
    const badCli = runnerWithConfig(database.url, {port: 'eighty'})
    const result = await badCli.run(['doctor', '--json'])
    expect(result.exitCode).toBe(1)
    expect(result.json[0]).toMatchObject({check: 'config', status: 'fail', detail: expect.stringContaining('Invalid setting port')})
    expect(result.json.slice(1)).toEqual(CHECKS.slice(1).map((check) => ({check, status: 'warn', detail: 'not checked: the configuration did not load'})))
    const cronCli = runnerWithConfig(database.url, {cleanup_schedule: 'every tuesday'})
    const cron = await cronCli.run(['doctor'])
    expect(cron.exitCode).toBe(1)
    expect(cron.stdout).toMatch(/^FAIL config +Invalid setting cleanup_schedule/m)
  })

  it('a config file that is not valid JSON fails the config check with the line and column only, never the file content (a secret)', async () => {
    const secret = 'Q2hvcnVzU2VjcmV0VmFsdWVOZXZlclByaW50ZWQ'
    for (const [text, where] of [
      [`{\n  "secret_key": ${secret}\n}`, null],
      [`{\n  "secret_key": "${secret}" "x"\n}`, /line 2, column \d+/],
    ] as const) {
      const badCli = createCliRunner(database.url, {inProcess: true})
      writeFileSync(path.join(badCli.cwd, 'saas-ctl.config.json'), text, {mode: 0o600})
      const result = await badCli.run(['doctor', '--json'])
      expect(result.exitCode).toBe(1)
      const detail: string = result.json[0].detail
      expect(result.json[0]).toMatchObject({check: 'config', status: 'fail', detail: expect.stringContaining('is not valid JSON')})
      if (where) expect(detail).toMatch(where)
      for (const output of [result.stdout, result.stderr]) expect(output).not.toContain(secret.slice(0, 6))
      expect(detail).not.toContain('secret_k')
    }
  })

  it('an unreachable database fails the database check (exit 1), quickly, and creates nothing', async () => {
    const missingFile = path.join(path.dirname(cli.cwd), `saasctl-doctor-missing-${process.pid}`, 'none.db')
    const url = dialect === 'sqlite' ? missingFile : 'postgres://postgres@127.0.0.1:1/none'
    const result = await cli.run(['doctor', '--json', '--database-url', url])
    expect(result.exitCode).toBe(1)
    expect(statusOf(result.json, 'database')).toBe('fail')
    for (const check of ['migrations', 'signing_keys', 'clock']) expect(result.json.find((entry: {check: string}) => entry.check === check)).toMatchObject({status: 'warn', detail: 'not checked: the database is unreachable'})
    expect(existsSync(missingFile)).toBe(false)
  })

  it('a database with a migration this version does not know (made by a newer saas-ctl) fails migrations (exit 1)', async () => {
    const future = '9999-from-a-newer-saas-ctl'
    await runOnDatabase(database.url, dialect, `insert into saasctl_migration (name, timestamp) values ('${future}', '2030-01-01T00:00:00.000Z')`)
    try {
      const result = await cli.run(['doctor', '--json'])
      expect(result.exitCode).toBe(1)
      expect(result.json.find((entry: {check: string}) => entry.check === 'migrations')).toMatchObject({status: 'fail', detail: expect.stringMatching(new RegExp(`newer than this saas-ctl.*${future}`))})
    } finally {
      await runOnDatabase(database.url, dialect, `delete from saasctl_migration where name = '${future}'`)
    }
    expect((await cli.run(['doctor'])).exitCode).toBe(0)
  })

  if (dialect === 'sqlite') {
    it('a world-readable SQLite file (chmod 644) fails file_permissions and exits 1', async () => {
      chmodSync(database.url, 0o644)
      const binary = createCliRunner(database.url)
      try {
        const result = await binary.run(['doctor', '--json'])
        expect(result.exitCode).toBe(1)
        expect(result.json.find((entry: {check: string}) => entry.check === 'file_permissions')).toMatchObject({status: 'fail', detail: expect.stringContaining(`${database.url} (mode 0644)`)})
        expect(result.json.filter((entry: {status: string}) => entry.status === 'fail').map((entry: {check: string}) => entry.check)).toEqual(['file_permissions'])
        const human = await binary.run(['doctor'])
        expect(human.exitCode).toBe(1)
        expect(human.stdout).toMatch(/^FAIL file_permissions /m)
      } finally {
        chmodSync(database.url, 0o600)
      }
    })

    it('a secret key the signing key does not open with fails signing_keys, without showing either key', async () => {
      const otherKey = Buffer.alloc(32, 7).toString('base64')
      const otherCli = runnerWithConfig(database.url, {secret_key: otherKey})
      const result = await otherCli.run(['doctor', '--json'])
      expect(result.exitCode).toBe(1)
      expect(result.json.find((entry: {check: string}) => entry.check === 'signing_keys')).toMatchObject({status: 'fail', detail: expect.stringContaining('does not open')})
      expect(result.stdout).not.toContain(otherKey)
    })

    it('an unmigrated SQLite file: pending migrations are a warning (the next command migrates it), and doctor migrates nothing', async () => {
      const fresh = await createTestDatabase('sqlite')
      try {
        writeFileSync(fresh.url, '', {mode: 0o600})
        const freshCli = createCliRunner(fresh.url, {inProcess: true})
        for (let run = 0; run < 2; run++) {
          const result = await freshCli.run(['doctor', '--json'])
          expect(result.exitCode).toBe(0)
          expect(result.json.find((entry: {check: string}) => entry.check === 'migrations')).toMatchObject({status: 'warn', detail: expect.stringMatching(/pending migration.*0001-init/)})
          expect(result.json.find((entry: {check: string}) => entry.check === 'signing_keys')).toMatchObject({status: 'warn', detail: 'not checked: the database is not migrated'})
        }
      } finally {
        await fresh.drop()
      }
    })
  }

  if (dialect === 'postgres') {
    it('an unmigrated Postgres database fails the migrations check (exit 1) and stays unmigrated', async () => {
      const fresh = await createTestDatabase('postgres')
      try {
        const freshCli = createCliRunner(fresh.url, {inProcess: true})
        for (let run = 0; run < 2; run++) {
          const result = await freshCli.run(['doctor', '--json'])
          expect(result.exitCode).toBe(1)
          expect(result.json.find((entry: {check: string}) => entry.check === 'migrations')).toMatchObject({status: 'fail', detail: expect.stringMatching(/pending migration.*0001-init.*migrate up/)})
          expect(statusOf(result.json, 'database')).toBe('ok')
          expect(result.json.filter((entry: {status: string}) => entry.status === 'fail').map((entry: {check: string}) => entry.check)).toEqual(['migrations'])
        }
      } finally {
        await fresh.drop()
      }
    })
  }
})

async function runOnDatabase(url: string, dialect: string, statement: string): Promise<void> {
  if (dialect === 'sqlite') {
    const connection = new BetterSqlite3(url, {fileMustExist: true})
    try {
      connection.pragma('busy_timeout = 5000')
      connection.exec(statement)
    } finally {
      connection.close()
    }
    return
  }
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}
