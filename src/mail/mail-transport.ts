/** One mail ready for the wire: what the outbox row and its opened body hold, plus the sender. */
export interface OutgoingMail {
  from: string
  to: string
  subject: string
  text: string
  html: string
  /** The row's stable Message-ID (`<id@host>`): the same on every attempt. */
  messageId: string
}

/** Where a delivered mail went: accepted by the SMTP relay, or written as a file. */
export type DeliveryReceipt = {via: 'smtp'; relay: string; response: string} | {via: 'file'; path: string}

/**
 * A way out for mail. Implementations build the message with nodemailer (never by hand) and
 * throw on failure with a message that carries no secret (no SMTP password).
 */
export interface MailTransport {
  /** Where mail goes, fit for logs and `mail test` (an SMTP URL without its password, or a folder). */
  readonly destination: string
  send(mail: OutgoingMail): Promise<DeliveryReceipt>
  close(): void
}

/** Raised by a transport; its message is safe to store in mail_outbox.last_error and to log. */
export class MailSendError extends Error {
  override readonly name = 'MailSendError'
}

/** The headers every mail carries besides the addressing ones. */
export const MAIL_HEADERS = {
  // RFC 3834: an automatic message; vacation responders and ticket systems do not answer it.
  'Auto-Submitted': 'auto-generated',
}
