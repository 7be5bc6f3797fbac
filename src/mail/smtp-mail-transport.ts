import type {Transporter} from 'nodemailer'
import {loadNodemailer} from './load-nodemailer.js'
import {MAIL_HEADERS, MailSendError, type MailTransport} from './mail-transport.js'

/**
 * Timeouts well below the outbox claim (MAIL_CLAIM_SECONDS): a hung relay fails the attempt
 * and the mail is retried, instead of another daemon taking over a send still in flight.
 */
const SMTP_TIMEOUTS = {connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000}

/**
 * Sends through the relay of an smtp:// or smtps:// URL (user:password in it; nodemailer reads
 * query options such as ?tls.rejectUnauthorized=false too). smtp:// upgrades with STARTTLS
 * when the relay offers it; smtps:// is TLS from the first byte.
 */
export function createSmtpMailTransport(smtpUrl: string): MailTransport {
  // Made on the first send (loading nodemailer then), so a core that sends nothing never loads it.
  let transporter: Transporter | undefined
  const relay = withoutPassword(smtpUrl)
  const secrets = secretsOf(smtpUrl)
  return {
    destination: relay,
    async send(mail) {
      try {
        transporter ??= (await loadNodemailer()).createTransport({url: smtpUrl, ...SMTP_TIMEOUTS})
        const info = await transporter.sendMail({...mail, headers: MAIL_HEADERS})
        return {via: 'smtp', relay, response: String(info.response ?? '')}
      } catch (error) {
        throw new MailSendError(scrub(describeSmtpError(error), secrets))
      }
    },
    close: () => transporter?.close(),
  }
}

/** An SMTP failure in one line, the URL's password scrubbed from it (for `doctor`). */
export function describeSmtpFailure(error: unknown, smtpUrl: string): string {
  return scrub(describeSmtpError(error), secretsOf(smtpUrl))
}

function describeSmtpError(error: unknown): string {
  const failure = error as {message?: unknown; code?: unknown; responseCode?: unknown}
  const message = typeof failure.message === 'string' ? failure.message : String(error)
  const code = typeof failure.code === 'string' ? `${failure.code}: ` : ''
  return `${code}${message}`.slice(0, 500)
}

/** The password as written in the URL and decoded: either could appear in an error text. */
function secretsOf(smtpUrl: string): string[] {
  try {
    const raw = new URL(smtpUrl).password
    return [...new Set([raw, safeDecode(raw)])].filter((secret) => secret.length > 0)
  } catch {
    return []
  }
}

function scrub(text: string, secrets: string[]): string {
  let scrubbed = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@')
  for (const secret of secrets) scrubbed = scrubbed.split(secret).join('***')
  return scrubbed
}

/** The URL for logs and `mail test`: its password (and any password query parameter) as ***. */
export function withoutPassword(smtpUrl: string): string {
  try {
    const url = new URL(smtpUrl)
    if (url.password) url.password = '***'
    for (const key of [...url.searchParams.keys()]) if (/pass|secret/i.test(key)) url.searchParams.set(key, '***')
    return url.toString()
  } catch {
    return 'smtp://(unparseable URL)'
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
