import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, expect, it} from 'vitest'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {enqueueMails, outboxRow} from './mail-fixtures.js'

const modeOf = (file: string) => statSync(file).mode & 0o777

describeEachDialect('mail without smtp_url: .eml files', (dialect) => {
  let t: TestCore | undefined
  let scratch: string | undefined
  afterEach(async () => {
    await t?.close()
    if (scratch) rmSync(scratch, {recursive: true, force: true})
    t = undefined
    scratch = undefined
  })

  it('writes each mail as a 0600 .eml file (named by its Message-ID) into a 0700 mail_dir, and erases the body from the database', async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'saasctl-mail-'))
    const mailDir = path.join(scratch, 'nested', 'mail')
    t = await createTestCore(dialect, {mailDir, publicUrl: 'https://app.acme.test', mailFrom: 'Acme <no-reply@acme.test>'})
    const [mail] = await enqueueMails(t.core, 1)
    const report = await t.core.mailDelivery.deliverDue()
    expect(report).toMatchObject({sent: 1, retried: 0, failed: 0})
    const outcome = report.outcomes[0]!
    expect(outcome.status === 'sent' && outcome.receipt).toEqual({via: 'file', path: path.join(mailDir, `${mail!.messageId.slice(1, -1)}.eml`)})
    const file = outcome.status === 'sent' && outcome.receipt.via === 'file' ? outcome.receipt.path : ''
    expect(modeOf(mailDir)).toBe(0o700)
    expect(modeOf(file)).toBe(0o600)
    const eml = readFileSync(file, 'utf8')
    expect(eml).toContain(`Message-ID: ${mail!.messageId}`)
    expect(eml).toContain('Subject: Fixture 0')
    expect(eml).toContain('From: Acme <no-reply@acme.test>')
    expect(eml).toContain('To: rcpt0@example.test')
    expect(eml).toContain('https://app.acme.test/fixture?n=0')
    expect(await outboxRow(t.core, mail!.id)).toMatchObject({status: 'sent', body_sealed: null})
    expect(existsSync(`${file}.partial`)).toBe(false)
  })

  it('narrows an existing mail_dir that group or others can read to 0700', async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'saasctl-mail-'))
    const mailDir = path.join(scratch, 'mail')
    mkdirSync(mailDir, {mode: 0o755})
    chmodSync(mailDir, 0o755)
    t = await createTestCore(dialect, {mailDir})
    await enqueueMails(t.core, 1)
    expect(await t.core.mailDelivery.deliverDue()).toMatchObject({sent: 1})
    expect(modeOf(mailDir)).toBe(0o700)
  })

  it('mail test writes the test mail and answers where it went', async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'saasctl-mail-'))
    t = await createTestCore(dialect, {mailDir: scratch})
    const result = await t.core.mailAdmin.sendTestMail(OPERATOR, {to: 'Ops@Example.test'})
    expect(result.to).toBe('ops@example.test')
    expect(result.receipt.via).toBe('file')
    expect(readFileSync(result.receipt.via === 'file' ? result.receipt.path : '', 'utf8')).toContain('Subject: saas-ctl test mail')
    const [listed] = await t.core.mailAdmin.listMails(OPERATOR)
    expect(listed).toMatchObject({id: result.id, kind: 'test', status: 'sent', attempts: 1})
    expect(await t.core.audit.listEvents({action: 'mail.test_queued'}, 10)).toHaveLength(1)
  })
})

it('by default the mail folder is saas-ctl-mail/ beside the SQLite database file', async () => {
  const t = await createTestCore('sqlite')
  try {
    expect(t.core.mailDelivery.destination()).toBe(path.join(path.dirname(t.database.url), 'saas-ctl-mail'))
    await enqueueMails(t.core, 1)
    const report = await t.core.mailDelivery.deliverDue()
    const outcome = report.outcomes[0]!
    expect(outcome.status === 'sent' && outcome.receipt.via === 'file' && path.dirname(outcome.receipt.path)).toBe(path.join(path.dirname(t.database.url), 'saas-ctl-mail'))
    expect(modeOf(path.join(path.dirname(t.database.url), 'saas-ctl-mail'))).toBe(0o700)
  } finally {
    await t.close()
  }
})
