import {afterEach, beforeEach, expect, it} from 'vitest'
import {createCore, type Core} from '../../../src/core.js'
import {MAIL_CLAIM_SECONDS} from '../../../src/mail/mail-delivery.js'
import {startSmtpSink, type SmtpSink} from '../../helpers/smtp-sink.js'
import {createTestCore, FAST_PASSWORD_HASHER, OPERATOR, testConfig, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {enqueueMails, outboxRow} from './mail-fixtures.js'

const BASE_MS = 30_000

describeEachDialect('mail delivery through SMTP', (dialect) => {
  let sink: SmtpSink
  let t: TestCore
  let core: Core

  beforeEach(async () => {
    sink = await startSmtpSink()
    t = await createTestCore(dialect, {smtpUrl: sink.url, mailFrom: 'Acme <no-reply@acme.test>', mailMaxAttempts: 4, publicUrl: 'https://app.acme.test'})
    core = t.core
  })
  afterEach(async () => {
    await t.close()
    await sink.stop()
  })

  it('SMTP down: retries with a jittered exponential backoff on the injected clock; SMTP up: each mail delivered exactly once, body erased', async () => {
    const mails = await enqueueMails(core, 3)
    await sink.down()
    const start = t.clock.now().getTime()

    const first = await core.mailDelivery.deliverDue()
    expect(first).toMatchObject({sent: 0, retried: 3, failed: 0})
    for (const mail of mails) {
      const row = await outboxRow(core, mail.id)
      expect(row).toMatchObject({status: 'pending', attempts: 1, claimed_by: null, claimed_until: null})
      const wait = Date.parse(row.next_attempt_at) - start
      expect(wait).toBeGreaterThanOrEqual(BASE_MS * 0.8)
      expect(wait).toBeLessThanOrEqual(BASE_MS * 1.2)
      expect(row.last_error).toBeTruthy()
      expect(row.last_error).not.toContain(sink.password)
    }

    // Not due before its backoff has passed.
    t.clock.advance(BASE_MS * 0.8 - 1)
    expect(await core.mailDelivery.deliverDue()).toMatchObject({sent: 0, retried: 0, failed: 0})

    // The second wait doubles: 60 s ± 20 %.
    t.clock.set(new Date(start + BASE_MS * 1.2))
    expect(await core.mailDelivery.deliverDue()).toMatchObject({retried: 3})
    const secondAttemptAt = t.clock.now().getTime()
    for (const mail of mails) {
      const row = await outboxRow(core, mail.id)
      expect(row.attempts).toBe(2)
      const wait = Date.parse(row.next_attempt_at) - secondAttemptAt
      expect(wait).toBeGreaterThanOrEqual(2 * BASE_MS * 0.8)
      expect(wait).toBeLessThanOrEqual(2 * BASE_MS * 1.2)
    }

    await sink.up()
    t.clock.set(new Date(secondAttemptAt + 2 * BASE_MS * 1.2))
    expect(await core.mailDelivery.deliverDue()).toMatchObject({sent: 3, retried: 0, failed: 0})
    const sentAt = t.clock.now().toISOString()
    expect(await core.mailDelivery.deliverDue()).toMatchObject({sent: 0, retried: 0, failed: 0})
    t.clock.advance(3_600_000)
    expect(await core.mailDelivery.deliverDue()).toMatchObject({sent: 0})

    const counts = sink.countByMessageId()
    expect(counts.size).toBe(3)
    for (const mail of mails) {
      expect(counts.get(mail.messageId)).toBe(1)
      const row = await outboxRow(core, mail.id)
      expect(row).toMatchObject({status: 'sent', attempts: 3, body_sealed: null, sent_at: sentAt, claimed_by: null})
    }
  })

  it('sends what was enqueued: From mail_from, the stable Message-ID, subject, text and HTML with public_url links, authenticated', async () => {
    const [mail] = await enqueueMails(core, 1)
    await core.mailDelivery.deliverDue()
    const received = await sink.waitFor((message) => message.messageId === mail!.messageId)
    expect(received.user).toBe(sink.user)
    expect(received.from).toBe('Acme <no-reply@acme.test>')
    expect(received.envelopeTo).toEqual(['rcpt0@example.test'])
    expect(received.subject).toBe('Fixture 0')
    expect(received.headers['auto-submitted']).toBe('auto-generated')
    expect(received.links).toEqual(['https://app.acme.test/fixture?n=0'])
    expect(received.html).toContain('href="https://app.acme.test/fixture?n=0"')
    expect(mail!.messageId).toMatch(/^<[^@>]+@app\.acme\.test>$/)
  })

  it('a relay answering 4xx/5xx is retried and then parked as failed after mail_max_attempts; mail retry puts it back and it is delivered', async () => {
    const [mail] = await enqueueMails(core, 1)
    sink.refuseWith({code: 451, message: 'greylisted, try again later'})
    for (let attempt = 1; attempt <= 4; attempt++) {
      const report = await core.mailDelivery.deliverDue()
      expect(report).toMatchObject(attempt < 4 ? {retried: 1, failed: 0} : {retried: 0, failed: 1})
      t.clock.advance(3_600_000 * 1.2)
    }
    const parked = await outboxRow(core, mail!.id)
    expect(parked).toMatchObject({status: 'failed', attempts: 4, claimed_by: null})
    expect(parked.last_error).toContain('451')
    expect(parked.body_sealed).not.toBeNull()
    expect(await core.mailDelivery.deliverDue()).toMatchObject({sent: 0, retried: 0, failed: 0})

    const failed = await core.mailAdmin.listMails(OPERATOR, {status: 'failed'})
    expect(failed.map((row) => row.id)).toEqual([mail!.id])
    expect(failed[0]).toMatchObject({status: 'failed', attempts: 4, nextAttemptAt: null, sentAt: null, kind: 'test_fixture', to: 'rcpt0@example.test'})
    expect(await core.mailAdmin.listMails(OPERATOR, {status: 'pending'})).toEqual([])

    await core.mailAdmin.retryMail(OPERATOR, {id: mail!.id})
    expect(await outboxRow(core, mail!.id)).toMatchObject({status: 'pending', attempts: 0, next_attempt_at: t.clock.now().toISOString()})
    const events = await core.audit.listEvents({action: 'mail.retried'}, 100)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({target: {type: 'mail', id: mail!.id}, metadata: {kind: 'test_fixture', previous_attempts: 4}})

    sink.refuseWith(null)
    expect(await core.mailDelivery.deliverDue()).toMatchObject({sent: 1})
    expect(sink.countByMessageId().get(mail!.messageId)).toBe(1)
    expect((await core.mailAdmin.listMails(OPERATOR, {status: 'sent'})).map((row) => row.id)).toEqual([mail!.id])
  })

  it('mail retry refuses unknown and not-failed mails; --failed requeues every failed one', async () => {
    const [sent, ...others] = await enqueueMails(core, 3)
    await core.mailDelivery.deliverDue({limit: 1})
    await expect(core.mailAdmin.retryMail(OPERATOR, {id: 'no-such-mail'})).rejects.toMatchObject({code: 'mail.not_found'})
    await expect(core.mailAdmin.retryMail(OPERATOR, {id: sent!.id})).rejects.toMatchObject({code: 'mail.not_failed'})
    await expect(core.mailAdmin.retryMail(OPERATOR, {id: others[0]!.id})).rejects.toMatchObject({code: 'mail.not_failed'})
    await core.database.db.updateTable('mail_outbox').set({status: 'failed', attempts: 4}).where('id', '!=', sent!.id).execute()
    const {ids} = await core.mailAdmin.retryFailedMails(OPERATOR)
    expect(ids.sort()).toEqual(others.map((mail) => mail.id).sort())
    expect(await core.mailAdmin.listMails(OPERATOR, {status: 'failed'})).toEqual([])
    expect(await core.audit.listEvents({action: 'mail.retried'}, 100)).toHaveLength(2)
  })

  it('a wrong SMTP password is refused by the relay, and neither it nor the right one lands in last_error', async () => {
    await t.close()
    const wrongPassword = 'wr0ng-Pa55-in-url'
    t = await createTestCore(dialect, {smtpUrl: sink.url.replace(encodeURIComponent(sink.password), wrongPassword), mailMaxAttempts: 4})
    core = t.core
    const [mail] = await enqueueMails(core, 1)
    expect(await core.mailDelivery.deliverDue()).toMatchObject({retried: 1})
    const row = await outboxRow(core, mail!.id)
    expect(row.last_error).toContain('535')
    expect(row.last_error).not.toContain(wrongPassword)
    expect(row.last_error).not.toContain(sink.password)
    expect(core.mailDelivery.destination()).not.toContain(wrongPassword)
    expect(sink.messages).toHaveLength(0)
  })

  it('a crash mid-send leaves the claim to expire: the mail is sent after MAIL_CLAIM_SECONDS, not lost', async () => {
    const [mail] = await enqueueMails(core, 1)
    // A process claimed it and died before recording anything.
    await core.database.db
      .updateTable('mail_outbox')
      .set({claimed_by: 'dead-host:1:0', claimed_until: new Date(t.clock.now().getTime() + MAIL_CLAIM_SECONDS * 1000).toISOString()})
      .where('id', '=', mail!.id)
      .execute()
    expect(await core.mailDelivery.deliverDue()).toMatchObject({sent: 0})
    t.clock.advance(MAIL_CLAIM_SECONDS * 1000 + 1)
    expect(await core.mailDelivery.deliverDue()).toMatchObject({sent: 1})
    expect(sink.countByMessageId().get(mail!.messageId)).toBe(1)
  })

  it('two cores (two delivery workers) on one database deliver 20 mails concurrently, each exactly once', async () => {
    const second = await createCore({config: testConfig(t.database.url, {smtpUrl: sink.url}), cwd: process.cwd(), clock: t.clock, passwords: FAST_PASSWORD_HASHER})
    try {
      const mails = await enqueueMails(core, 20)
      const reports = await Promise.all([
        core.mailDelivery.deliverDue({limit: 7}),
        second.mailDelivery.deliverDue({limit: 7}),
        core.mailDelivery.deliverDue(),
        second.mailDelivery.deliverDue(),
        core.mailDelivery.deliverDue(),
        second.mailDelivery.deliverDue(),
      ])
      const sent = reports.reduce((sum, report) => sum + report.sent, 0)
      expect(sent).toBe(20)
      // Both took part: the claims, not luck, kept them apart.
      expect(reports.filter((_report, index) => index % 2 === 1).reduce((sum, report) => sum + report.sent, 0)).toBeGreaterThan(0)
      expect(reports.filter((_report, index) => index % 2 === 0).reduce((sum, report) => sum + report.sent, 0)).toBeGreaterThan(0)
      const counts = sink.countByMessageId()
      expect(counts.size).toBe(20)
      for (const mail of mails) expect(counts.get(mail.messageId)).toBe(1)
      expect(sink.messages).toHaveLength(20)
      const rows = await core.database.db.selectFrom('mail_outbox').select(['status', 'body_sealed']).execute()
      expect(rows.every((row) => row.status === 'sent' && row.body_sealed === null)).toBe(true)
    } finally {
      await second.close()
    }
  })
})
