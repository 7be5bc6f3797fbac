import {mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, expect, it} from 'vitest'
import {startSmtpSink, type SmtpSink} from '../helpers/smtp-sink.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {waitUntil} from '../helpers/daemon-process.js'
import {enqueueMails, outboxRow} from '../integration/mail/mail-fixtures.js'
import {startTestDaemon, type TestDaemon} from './http-harness.js'

describeEachDialect('the daemon delivers mail in the background', (dialect) => {
  let daemon: TestDaemon | undefined
  let sink: SmtpSink | undefined
  let scratch: string | undefined
  afterEach(async () => {
    await daemon?.close()
    await sink?.stop()
    if (scratch) rmSync(scratch, {recursive: true, force: true})
    daemon = sink = scratch = undefined
  })

  it('without smtp_url: writes the .eml file and logs its path', async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'saasctl-mail-'))
    const mailDir = path.join(scratch, 'mail')
    daemon = await startTestDaemon(dialect, {settings: {mailDir, mailPollMs: 50}, mailDelivery: true})
    const [mail] = await enqueueMails(daemon.testCore.core, 1)
    await waitUntil(async () => daemon!.logs().some((line) => line.msg.startsWith('mail written to file')), 5_000)
    const line = daemon.logs().find((entry) => entry.msg.startsWith('mail written to file'))!
    expect(line).toMatchObject({level: 'info', mail_id: mail!.id, message_id: mail!.messageId, path: path.join(mailDir, `${mail!.messageId.slice(1, -1)}.eml`)})
    expect(statSync(line.path as string).mode & 0o777).toBe(0o600)
    expect(statSync(mailDir).mode & 0o777).toBe(0o700)
    expect(daemon.logs().find((entry) => entry.msg === 'mail delivery started')).toMatchObject({destination: mailDir})
  })

  it('SMTP down: logs the failed attempts (never the SMTP password) and delivers each mail once the relay is back', async () => {
    sink = await startSmtpSink()
    await sink.down()
    daemon = await startTestDaemon(dialect, {settings: {smtpUrl: sink.url, mailPollMs: 50}, mailDelivery: true})
    const mails = await enqueueMails(daemon.testCore.core, 3)
    await waitUntil(async () => daemon!.logs().filter((line) => line.msg === 'mail delivery failed; will retry').length >= 3, 5_000)
    expect(daemon.logs().find((line) => line.msg === 'mail delivery started')).toMatchObject({destination: expect.stringContaining('***@127.0.0.1')})
    // The fixed clock has not moved: nothing is due again, so nothing more is tried.
    await new Promise((resolve) => setTimeout(resolve, 300))
    for (const mail of mails) expect((await outboxRow(daemon.testCore.core, mail.id)).attempts).toBe(1)

    await sink.up()
    daemon.testCore.clock.advance(36_000)
    await waitUntil(async () => sink!.messages.length >= 3, 5_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const counts = sink.countByMessageId()
    for (const mail of mails) expect(counts.get(mail.messageId)).toBe(1)
    expect(sink.messages).toHaveLength(3)
    expect(daemon.rawLogs()).not.toContain(sink.password)
    expect(daemon.logs().filter((line) => line.msg === 'mail sent')).toHaveLength(3)
  })
})
