import {afterAll, beforeAll, expect, it} from 'vitest'
import {createCore, type Core} from '../../src/core.js'
import {latestMail} from '../helpers/outbox-mail.js'
import {createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import {FAST_PASSWORD_HASHER, testConfig} from '../helpers/test-core.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// The password policy and email changes at the command line (commands run in-process).

describeEachDialect('CLI password policy and email change', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner
  let core: Core

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect, {inProcess: true}))
    // Same database; the outbox bodies open with the same secret key (the key file beside a SQLite database, SAASCTL_SECRET_KEY on Postgres).
    core = await createCore({config: testConfig(database.url), cwd: cli.cwd, passwords: FAST_PASSWORD_HASHER})
  })
  afterAll(async () => {
    await core?.close()
    await database?.drop()
  })

  it('user create refuses a common password with password.too_weak (exit 65), without echoing it', async () => {
    const weak = await cli.run(['user', 'create', '--email', 'weak@example.com', '--password-stdin', '--json'], {input: 'password123'})
    expect(weak.exitCode).toBe(65)
    expect(weak.json.error).toMatchObject({code: 'password.too_weak', details: {rule: 'too_common'}})
    expect(weak.stdout + weak.stderr).not.toContain('password123')
    const same = await cli.run(['user', 'create', '--email', 'weak@example.com', '--password-stdin', '--json'], {input: 'WEAK@example.com'})
    expect(same.json.error).toMatchObject({code: 'password.too_weak', details: {rule: 'equals_email'}})
    const strong = await cli.run(['user', 'create', '--email', 'weak@example.com', '--password-stdin', '--json'], {input: 'correct horse battery staple'})
    expect(strong.exitCode).toBe(0)
  })

  it('user update --email makes the address unverified, mails it a link and the old address a notice', async () => {
    expect((await cli.run(['user', 'create', '--email', 'old@example.com', '--json'])).exitCode).toBe(0)
    const updated = await cli.run(['user', 'update', 'old@example.com', '--email', 'new@example.com', '--json'])
    expect(updated.exitCode).toBe(0)
    expect(updated.json).toMatchObject({email: 'new@example.com', email_verified_at: null})
    expect((await latestMail(core, 'new@example.com', 'verify_email')).links[0]).toMatch(/\/verify-email\?token=/)
    expect(await latestMail(core, 'old@example.com', 'email_changed')).toBeTruthy()
    const audit = await cli.run(['audit', 'tail', '--action', 'user.email_changed', '--json'])
    expect(audit.exitCode).toBe(0)
    expect(JSON.stringify(audit.json)).toContain('new@example.com')
  })
})
