import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {createCliDatabase, createCliRunner, type CliRunner} from '../helpers/run-cli.js'
import {startSmtpSink, type SmtpSink} from '../helpers/smtp-sink.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

describeEachDialect('CLI mail', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner
  // Another operator's shell on the same database, its config file naming the SMTP relay.
  let smtpCli: CliRunner
  let sink: SmtpSink

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect, {inProcess: true}))
    sink = await startSmtpSink()
    smtpCli = createCliRunner(database.url, {inProcess: true})
    writeFileSync(path.join(smtpCli.cwd, 'saas-ctl.config.json'), JSON.stringify({smtp_url: sink.url, mail_from: 'Ops <ops@acme.test>', mail_max_attempts: 1}), {mode: 0o600})
  })
  afterAll(async () => {
    await sink?.stop()
    await database?.drop()
  })

  it('mail test without smtp_url writes an .eml file (0600, in a 0700 folder beside the database or in the working directory) and prints its path', async () => {
    const result = await cli.run(['mail', 'test', 'ann@example.test', '--json'])
    expect(result.exitCode).toBe(0)
    expect(result.json).toMatchObject({to: 'ann@example.test', receipt: {via: 'file'}, message_id: expect.stringMatching(/^<.+@.+>$/)})
    const file: string = result.json.receipt.path
    const folder = dialect === 'sqlite' ? path.join(path.dirname(database.url), 'saas-ctl-mail') : path.join(cli.cwd, 'saas-ctl-mail')
    expect(path.dirname(file)).toBe(folder)
    expect(statSync(folder).mode & 0o777).toBe(0o700)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file, 'utf8')).toContain(`Message-ID: ${result.json.message_id}`)

    const human = await cli.run(['mail', 'test', 'ann@example.test'])
    expect(human.exitCode).toBe(0)
    expect(human.stdout).toMatch(/^Test mail to ann@example\.test written to \S+\.eml/)
    expect(existsSync(human.stdout.match(/written to (\S+\.eml)/)![1]!)).toBe(true)
  })

  it('mail test through SMTP prints the relay (without its password) and the mail arrives once with its Message-ID', async () => {
    const result = await smtpCli.run(['mail', 'test', 'bob@example.test'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(`accepted by smtp://${sink.user}:***@127.0.0.1:${sink.port}`)
    expect(result.stdout + result.stderr).not.toContain(sink.password)
    const received = await sink.waitFor((mail) => mail.envelopeTo.includes('bob@example.test'))
    expect(received).toMatchObject({subject: 'saas-ctl test mail', from: 'Ops <ops@acme.test>'})
    expect(sink.countByMessageId().get(received.messageId)).toBe(1)
  })

  it('mail test with the relay down exits 69 (mail.delivery_failed) and leaves the mail in the outbox; mail retry --failed puts it back', async () => {
    await sink.down()
    try {
      const result = await smtpCli.run(['mail', 'test', 'carol@example.test', '--json'])
      expect(result.exitCode).toBe(69)
      expect(result.json.error).toMatchObject({code: 'mail.delivery_failed', details: {status: 'failed'}})
      expect(result.stdout + result.stderr).not.toContain(sink.password)
      const carolId: string = result.json.error.details.id

      const failed = await cli.run(['mail', 'list', '--status', 'failed', '--json'])
      expect(failed.exitCode).toBe(0)
      expect(failed.json.map((mail: any) => mail.id)).toEqual([carolId])
      expect(failed.json[0]).toMatchObject({kind: 'test', to: 'carol@example.test', status: 'failed', attempts: 1, last_error: expect.any(String), sent_at: null, next_attempt_at: null})
      expect(failed.json[0].last_error).not.toContain(sink.password)

      const notFound = await cli.run(['mail', 'retry', 'no-such-mail', '--json'])
      expect(notFound.exitCode).toBe(66)
      expect(notFound.json.error.code).toBe('mail.not_found')
      const sentId = (await cli.run(['mail', 'list', '--status', 'sent', '--json'])).json[0].id
      const notFailed = await cli.run(['mail', 'retry', sentId, '--json'])
      expect(notFailed.exitCode).toBe(73)
      expect(notFailed.json.error.code).toBe('mail.not_failed')
      expect((await cli.run(['mail', 'retry'])).exitCode).toBe(65)

      const retried = await cli.run(['mail', 'retry', '--failed', '--json'])
      expect(retried.exitCode).toBe(0)
      expect(retried.json).toEqual({ids: [carolId]})
      const pending = await cli.run(['mail', 'list', '--status', 'pending', '--json'])
      expect(pending.json).toHaveLength(1)
      expect(pending.json[0]).toMatchObject({id: carolId, status: 'pending', attempts: 0, next_attempt_at: expect.any(String)})
      const audit = await cli.run(['audit', 'tail', '--json'])
      expect(audit.stdout).toContain('mail.retried')
    } finally {
      await sink.up()
    }
  })

  it('mail list --json shows every mail newest first, never a body; the table has the same rows', async () => {
    const listed = await cli.run(['mail', 'list', '--json'])
    expect(listed.exitCode).toBe(0)
    expect(listed.json.map((mail: any) => mail.to)).toEqual(['carol@example.test', 'bob@example.test', 'ann@example.test', 'ann@example.test'])
    for (const mail of listed.json) {
      expect(Object.keys(mail).sort()).toEqual(['attempts', 'created_at', 'id', 'kind', 'last_error', 'message_id', 'next_attempt_at', 'sent_at', 'status', 'to'])
    }
    expect(listed.json.filter((mail: any) => mail.status === 'sent').every((mail: any) => mail.sent_at !== null)).toBe(true)
    const table = await cli.run(['mail', 'list'])
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+KIND\s+TO\s+STATUS\s+ATTEMPTS\s+NEXT ATTEMPT\s+LAST ERROR\s+CREATED\s+SENT$/)
    expect(table.stdout.trim().split('\n')).toHaveLength(5)
    expect((await cli.run(['mail', 'list', '--status', 'bogus'])).exitCode).toBe(64)
  })
})
