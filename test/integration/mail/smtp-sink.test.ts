import nodemailer from 'nodemailer'
import {afterEach, describe, expect, it} from 'vitest'
import {startSmtpSink, type SmtpSink} from '../../helpers/smtp-sink.js'

// The test helper itself: what it records is what the mail tests assert on.
describe('SMTP sink (test helper)', () => {
  let sink: SmtpSink | undefined
  afterEach(async () => sink?.stop())

  const longLink = `https://app.example.test/verify-email?token=${'x'.repeat(90)}&next=%2Fhome`

  it('records authenticated messages with decoded headers, text and links', async () => {
    sink = await startSmtpSink()
    const transport = nodemailer.createTransport(sink.url)
    await transport.sendMail({from: 'saas-ctl <noreply@example.test>', to: 'ann@example.test', subject: 'Bestätigen Sie Ihre Adresse', messageId: '<m1@example.test>', text: `Hi\n\nVerify: ${longLink}\n`, html: '<p>Hi</p>'})
    const mail = await sink.waitFor((message) => message.messageId === '<m1@example.test>')
    expect(mail.user).toBe(sink.user)
    expect(mail.envelopeTo).toEqual(['ann@example.test'])
    expect(mail.subject).toBe('Bestätigen Sie Ihre Adresse')
    expect(mail.links).toEqual([longLink])
    expect(mail.html).toContain('<p>Hi</p>')
    expect(sink.countByMessageId().get('<m1@example.test>')).toBe(1)
  })

  it('refuses wrong credentials, refuses on demand, and can be down and up again on the same port', async () => {
    sink = await startSmtpSink()
    await expect(nodemailer.createTransport(sink.url.replace(sink.password, 'wrong')).sendMail({from: 'a@example.test', to: 'b@example.test', text: 'x'})).rejects.toMatchObject({responseCode: 535})
    sink.refuseWith({code: 451, message: 'try later'})
    await expect(nodemailer.createTransport(sink.url).sendMail({from: 'a@example.test', to: 'b@example.test', text: 'x'})).rejects.toMatchObject({responseCode: 451})
    sink.refuseWith(null)
    await sink.down()
    await expect(nodemailer.createTransport(sink.url).sendMail({from: 'a@example.test', to: 'b@example.test', text: 'x'})).rejects.toMatchObject({code: 'ESOCKET'})
    await sink.up()
    await nodemailer.createTransport(sink.url).sendMail({from: 'a@example.test', to: 'b@example.test', text: 'back'})
    expect((await sink.waitFor()).text.trim()).toBe('back')
    expect(sink.messages).toHaveLength(1)
  })
})
