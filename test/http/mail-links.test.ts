import {afterAll, beforeAll, expect, it} from 'vitest'
import {queuedMails} from '../helpers/outbox-mail.js'
import {startSmtpSink, type ReceivedMail, type SmtpSink} from '../helpers/smtp-sink.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {findFreePort, request, STACK_FRAME, startTestDaemon, type TestDaemon} from './http-harness.js'

// The mails a user gets (verification, reset, lockout, new device) travel through the daemon's
// mail worker to a real SMTP server in-process, and the links in them are followed as a
// browser would: GET the page, then post its form. public_url is left unset, so the links point
// at the daemon itself (the issuer), as on a fresh install. Network: loopback only.

const PASSWORD = 'correct horse battery staple'
const NEW_PASSWORD = 'a brand new passphrase for mail links'
const FIREFOX_ON_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
const MARKUP = `"><script>alert(1)</script><img src=x onerror='x'>`

interface PageForm {
  /** Where the form posts, resolved against the page's address. */
  action: URL
  hidden: Record<string, string>
  fieldNames: string[]
}

/** The one form of an account page: its action and its hidden values, as a browser reads them. */
function formOf(pageUrl: string, html: string): PageForm {
  const form = /<form method="post" action="([^"]*)">([\s\S]*?)<\/form>/.exec(html)
  if (!form) throw new Error(`no form on the page at ${pageUrl}`)
  const hidden: Record<string, string> = {}
  for (const input of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) hidden[input[1]!] = decodeEntities(input[2]!)
  const fieldNames = [...form[2]!.matchAll(/<input id="[^"]+" name="([^"]+)"/g)].map((match) => match[1]!)
  return {action: new URL(decodeEntities(form[1]!), pageUrl), hidden, fieldNames}
}

function decodeEntities(text: string): string {
  return text.replace(/&#(\d+);/g, (_match, code: string) => String.fromCharCode(Number(code)))
}

function expectSafePage(page: {headers: Headers; text: string}): void {
  expect(page.headers.get('content-type')).toMatch(/^text\/html/)
  expect(page.headers.get('cache-control')).toBe('no-store')
  expect(page.headers.get('referrer-policy')).toBe('no-referrer')
  const csp = page.headers.get('content-security-policy') ?? ''
  expect(csp).toContain("default-src 'none'")
  expect(csp).toContain("form-action 'self'")
  expect(csp).not.toContain('unsafe-inline')
  expect(page.text).not.toMatch(/<script/i)
  expect(page.text).not.toMatch(STACK_FRAME)
}

describeEachDialect('mails arrive over SMTP with links to working pages', (dialect) => {
  let sink: SmtpSink
  let daemon: TestDaemon
  let emailCounter = 0
  const nextEmail = (label: string) => `${label}-${++emailCounter}-${dialect}@example.com`
  const core = () => daemon.testCore.core

  const api = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    request(`${daemon.url}${path}`, {method: 'POST', headers: {'content-type': 'application/json', ...headers}, body: JSON.stringify(body)})
  const postForm = (url: URL | string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    request(String(url), {method: 'POST', headers, body: new URLSearchParams(fields)})
  const mailTo = (to: string, subject: RegExp) => sink.waitFor((mail) => mail.envelopeTo.includes(to) && subject.test(mail.subject))
  const onlyLink = (mail: ReceivedMail) => {
    expect(mail.links).toHaveLength(1)
    const link = mail.links[0]!
    expect(link.startsWith(`${daemon.url}/`)).toBe(true)
    return link
  }

  async function register(label: string) {
    const email = nextEmail(label)
    const response = await api('/v1/auth/register', {email, password: PASSWORD})
    expect(response.status).toBe(201)
    return {email, accessToken: response.json.access_token as string}
  }

  beforeAll(async () => {
    sink = await startSmtpSink()
    // A port chosen up front: public_url defaults to the issuer, http://127.0.0.1:<port>.
    const port = await findFreePort()
    daemon = await startTestDaemon(dialect, {
      settings: {port, smtpUrl: sink.url, mailPollMs: 50, lockoutThreshold: 3, failedAttemptsPerMinute: 10, trustProxy: 'loopback'},
      mailDelivery: true,
    })
    expect(core().publicUrl).toBe(daemon.url)
  })
  afterAll(async () => {
    await daemon?.close()
    await sink?.stop()
  })

  it('verification: the link opens a page whose button (not the GET) verifies the address', async () => {
    const account = await register('verify')
    const link = onlyLink(await mailTo(account.email, /confirm your email/i))
    expect(new URL(link).pathname).toBe('/verify-email')

    const page = await request(link)
    expect(page.status).toBe(200)
    expectSafePage(page)
    const form = formOf(link, page.text)
    expect(form.action.href).toBe(`${daemon.url}/verify-email`)
    expect(form.hidden.token).toBe(new URL(link).searchParams.get('token'))
    // Opening the link (as a mail scanner would) verified nothing.
    expect((await request(`${daemon.url}/v1/auth/me`, {headers: {authorization: `Bearer ${account.accessToken}`}})).json.email_verified).toBe(false)

    const done = await postForm(form.action, form.hidden)
    expect(done.status).toBe(200)
    expectSafePage(done)
    expect(done.text).toContain('Email address confirmed')
    expect(done.text).toContain(account.email)
    const me = await request(`${daemon.url}/v1/auth/me`, {headers: {authorization: `Bearer ${account.accessToken}`}})
    expect(me.json.email_verified).toBe(true)

    // The link works once.
    const again = await postForm(form.action, form.hidden)
    expect(again.status).toBe(422)
    expectSafePage(again)
    expect(again.text).toContain('This link does not work')
  })

  it('reset: forgot-password page → mail → reset page; weak or mismatched passwords show the form again; the new password logs in, the old one no more', async () => {
    const account = await register('reset')
    const forgotPage = await request(`${daemon.url}/forgot-password`)
    expect(forgotPage.status).toBe(200)
    expectSafePage(forgotPage)
    const forgotForm = formOf(`${daemon.url}/forgot-password`, forgotPage.text)
    expect(forgotForm.fieldNames).toEqual(['email'])
    const asked = await postForm(forgotForm.action, {email: account.email})
    expect(asked.status).toBe(200)
    expect(asked.text).toContain('If an account uses this address')

    const link = onlyLink(await mailTo(account.email, /^reset your password/i))
    expect(new URL(link).pathname).toBe('/reset-password')
    const page = await request(link)
    expect(page.status).toBe(200)
    expectSafePage(page)
    const form = formOf(link, page.text)
    expect(form.fieldNames).toEqual(['password', 'password_confirmation'])

    const weak = await postForm(form.action, {...form.hidden, password: 'password', password_confirmation: 'password'})
    expect(weak.status).toBe(422)
    expectSafePage(weak)
    expect(weak.text).toMatch(/too common/i)
    expect(weak.text).not.toMatch(/value="password"/)
    expect(formOf(link, weak.text).hidden.token).toBe(form.hidden.token)

    const mismatched = await postForm(form.action, {...form.hidden, password: NEW_PASSWORD, password_confirmation: `${NEW_PASSWORD}!`})
    expect(mismatched.status).toBe(422)
    expect(mismatched.text).toContain('do not match')
    expect(mismatched.text).not.toContain(NEW_PASSWORD)

    const done = await postForm(form.action, {...form.hidden, password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD})
    expect(done.status).toBe(200)
    expectSafePage(done)
    expect(done.text).toContain('Password changed')
    await mailTo(account.email, /your password was reset/i)

    expect((await api('/v1/auth/login', {email: account.email, password: NEW_PASSWORD})).status).toBe(200)
    expect((await api('/v1/auth/login', {email: account.email, password: PASSWORD})).json.error.code).toBe('auth.invalid_credentials')
    const reused = await postForm(form.action, {...form.hidden, password: 'yet another passphrase', password_confirmation: 'yet another passphrase'})
    expect(reused.status).toBe(422)
    expect(reused.text).toContain('This link does not work')
    expect(reused.text).toContain('href="/forgot-password"')
  })

  it('lockout: the mail links to the forgot-password page, which sends a reset mail', async () => {
    const account = await register('locked')
    for (let attempt = 0; attempt < 3; attempt++) expect((await api('/v1/auth/login', {email: account.email, password: 'not the password'})).status).toBe(401)
    expect((await api('/v1/auth/login', {email: account.email, password: PASSWORD})).status).toBe(429)

    const link = onlyLink(await mailTo(account.email, /locked/i))
    expect(link).toBe(`${daemon.url}/forgot-password`)
    const page = await request(link)
    expect(page.status).toBe(200)
    expectSafePage(page)
    const form = formOf(link, page.text)
    expect((await postForm(form.action, {email: account.email})).status).toBe(200)
    const resetLink = onlyLink(await mailTo(account.email, /^reset your password/i))
    const resetPage = await request(resetLink)
    expect(resetPage.status).toBe(200)
    const resetForm = formOf(resetLink, resetPage.text)
    expect((await postForm(resetForm.action, {...resetForm.hidden, password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD})).status).toBe(200)
    // A reset by link lifts the lock: the new password logs in at once.
    expect((await api('/v1/auth/login', {email: account.email, password: NEW_PASSWORD})).status).toBe(200)
  })

  it('new device: registering records the device (silently); the first login from another browser and network is mailed with a working link', async () => {
    const account = await register('device')
    expect(await queuedMails(core(), {to: account.email, kind: 'new_device'})).toHaveLength(0)

    const elsewhere = await api('/v1/auth/login', {email: account.email, password: PASSWORD}, {'user-agent': FIREFOX_ON_LINUX, 'x-forwarded-for': '198.51.100.23'})
    expect(elsewhere.status).toBe(200)
    const mail = await mailTo(account.email, /new sign-in/i)
    expect(mail.text).toContain('Firefox on Linux')
    expect(mail.text).toContain('198.51.100.0/24')
    const link = onlyLink(mail)
    expect(link).toBe(`${daemon.url}/forgot-password`)
    const page = await request(link)
    expect(page.status).toBe(200)
    expectSafePage(page)

    // The client and network of the registration: a known device, no mail.
    expect((await api('/v1/auth/login', {email: account.email, password: PASSWORD})).status).toBe(200)
    expect(await queuedMails(core(), {to: account.email, kind: 'new_device'})).toHaveLength(1)
  })

  it('wrong tokens and markup: HTML pages with a 4xx status, escaped, no stack; cross-site posts refused', async () => {
    const from = {'x-forwarded-for': '192.0.2.10'}
    const wrongVerify = await postForm(`${daemon.url}/verify-email`, {token: 'not-a-token'}, from)
    expect(wrongVerify.status).toBe(422)
    expectSafePage(wrongVerify)
    expect(wrongVerify.text).toContain('invalid, was already used or has expired')
    const wrongReset = await postForm(`${daemon.url}/reset-password`, {token: MARKUP, password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD}, from)
    expect(wrongReset.status).toBe(422)
    expectSafePage(wrongReset)
    expect(wrongReset.text).not.toContain(MARKUP)

    for (const path of ['/verify-email', '/reset-password']) {
      const page = await request(`${daemon.url}${path}?token=${encodeURIComponent(MARKUP)}`)
      expect(page.status).toBe(200)
      expectSafePage(page)
      expect(page.text).not.toContain('<img')
      expect(page.text).toContain('&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#60;img src=x onerror=&#39;x&#39;&#62;')
      expect(formOf(`${daemon.url}${path}`, page.text).hidden.token).toBe(MARKUP)
      const missing = await request(`${daemon.url}${path}`)
      expect(missing.status).toBe(400)
      expectSafePage(missing)
    }
    const forgot = await postForm(`${daemon.url}/forgot-password`, {email: MARKUP})
    expect(forgot.status).toBe(422)
    expectSafePage(forgot)
    expect(forgot.text).toContain('Enter a valid email address')
    expect(forgot.text).not.toContain('<img')

    const stylesheet = await request(`${daemon.url}/account-pages.css`)
    expect(stylesheet.status).toBe(200)
    expect(stylesheet.headers.get('content-type')).toMatch(/^text\/css/)

    const crossSite = await postForm(`${daemon.url}/forgot-password`, {email: 'someone@example.com'}, {'sec-fetch-site': 'cross-site'})
    expect(crossSite.status).toBe(403)
    expectSafePage(crossSite)
  })

  it('wrong tokens beyond the minute’s budget of an IP: 429 page with Retry-After', async () => {
    const from = {'x-forwarded-for': '192.0.2.77'}
    for (let attempt = 0; attempt < 10; attempt++) expect((await postForm(`${daemon.url}/verify-email`, {token: `wrong-${attempt}`}, from)).status).toBe(422)
    const throttled = await postForm(`${daemon.url}/verify-email`, {token: 'wrong-again'}, from)
    expect(throttled.status).toBe(429)
    expectSafePage(throttled)
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(throttled.text).toContain('Too many attempts')
    // Another IP's budget is its own.
    expect((await postForm(`${daemon.url}/verify-email`, {token: 'wrong'}, {'x-forwarded-for': '192.0.2.78'})).status).toBe(422)
  })
})

describeEachDialect('account pages behind a proxy that serves the daemon under a path prefix', (dialect) => {
  let daemon: TestDaemon | undefined
  afterAll(async () => daemon?.close())

  it('forms post, and links and the stylesheet lead, under public_url’s path', async () => {
    daemon = await startTestDaemon(dialect, {settings: {publicUrl: 'https://example.com/auth/'}})
    const page = await request(`${daemon.url}/reset-password?token=abc`)
    expect(page.status).toBe(200)
    expect(formOf('https://example.com/auth/reset-password?token=abc', page.text).action.href).toBe('https://example.com/auth/reset-password')
    expect(page.text).toContain('href="/auth/account-pages.css"')
    const invalid = await request(`${daemon.url}/reset-password`)
    expect(invalid.text).toContain('href="/auth/forgot-password"')
  })
})
