import {once} from 'node:events'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, expect, it} from 'vitest'
import {parseDatabaseUrl} from '../../src/db/database-url.js'
import {openDatabase, type OpenedDatabase} from '../../src/db/open-database.js'
import {startDaemonProcess, waitUntil, type DaemonProcess} from '../helpers/daemon-process.js'
import {createCliDatabase} from '../helpers/run-cli.js'
import {startSmtpSink, type SmtpSink} from '../helpers/smtp-sink.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// Nothing is lost when SMTP is down or the daemon is killed: the outbox row outlives both.
describeEachDialect('mail outlives a killed daemon', (dialect) => {
  let database: TestDatabase | undefined
  let daemon: DaemonProcess | undefined
  let sink: SmtpSink | undefined
  let db: OpenedDatabase | undefined
  afterEach(async () => {
    await daemon?.stop()
    await db?.close()
    await sink?.stop()
    await database?.drop()
  })

  it('a mail the CLI could not send is retried by the daemon while SMTP is down, survives SIGKILL, and is delivered once after the restart', async () => {
    let cli
    ;({database, cli} = await createCliDatabase(dialect))
    sink = await startSmtpSink()
    await sink.down()
    // Short waits so the test sees several attempts: 1 s, 2 s, 4 s … (± 20 %).
    const settings = {smtp_url: sink.url, mail_retry_base_seconds: 1, mail_poll_ms: 100}
    writeFileSync(path.join(cli.cwd, 'saas-ctl.config.json'), JSON.stringify(settings), {mode: 0o600})
    const env = {SAASCTL_SMTP_URL: sink.url, SAASCTL_MAIL_RETRY_BASE_SECONDS: '1', SAASCTL_MAIL_POLL_MS: '100'}
    daemon = await startDaemonProcess(database.url, {env})

    const queued = await cli.run(['mail', 'test', 'dora@example.test', '--json'])
    expect(queued.exitCode, queued.stderr).toBe(69)
    const id: string = queued.json.error.details.id
    db = await openDatabase(parseDatabaseUrl(database.url, process.cwd()))
    const row = () => db!.db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

    // The daemon retries it on its own (attempt 1 was the CLI's).
    await waitUntil(async () => (await row()).attempts >= 3, 15_000)
    // Killed right after an attempt was recorded: the next one is a backoff away, nothing is in flight.
    daemon.process.kill('SIGKILL')
    await once(daemon.process, 'exit')
    const before = await row()
    expect(before).toMatchObject({status: 'pending', claimed_by: null})
    expect(before.body_sealed).not.toBeNull()
    expect(before.last_error).not.toContain(sink.password)

    await sink.up()
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(sink.messages).toHaveLength(0)

    daemon = await startDaemonProcess(database.url, {env})
    const received = await sink.waitFor((mail) => mail.envelopeTo.includes('dora@example.test'), 15_000)
    await waitUntil(async () => (await row()).status === 'sent', 5_000)
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(sink.countByMessageId().get(received.messageId)).toBe(1)
    expect(sink.messages).toHaveLength(1)
    expect(await row()).toMatchObject({status: 'sent', body_sealed: null, message_id: received.messageId})
    expect(daemon.output()).not.toContain(sink.password)
  })
})
