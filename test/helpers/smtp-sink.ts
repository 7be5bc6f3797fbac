import {SMTPServer, type SMTPServerOptions} from 'smtp-server'
import {findFreePort} from '../../daemon/find-free-port.js'
import {findPart, readMime, type MimePart} from './mime-reader.js'

export interface ReceivedMail {
  /** The message as it came over the wire (CRLF line ends). */
  raw: string
  /** Envelope: MAIL FROM and RCPT TO addresses. */
  envelopeFrom: string
  envelopeTo: string[]
  /** Headers lower-cased, unfolded and decoded (e.g. headers['reply-to']). */
  headers: Record<string, string>
  from: string
  to: string
  subject: string
  messageId: string
  /** The decoded text/plain part ('' when there is none). */
  text: string
  /** The decoded text/html part ('' when there is none). */
  html: string
  /** The http(s) links in the text part. */
  links: string[]
  /** The username the client authenticated as, or null. */
  user: string | null
}

export interface SmtpSink {
  /** smtp://user:pass@127.0.0.1:port — what `smtp_url` takes. */
  url: string
  /** The same server without credentials in the URL (auth is optional). */
  anonymousUrl: string
  port: number
  user: string
  password: string
  /** Every message accepted so far, oldest first. */
  messages: ReceivedMail[]
  /** Resolves with the first accepted message matching `predicate` (waiting for it), or throws after `ms`. */
  waitFor(predicate?: (mail: ReceivedMail) => boolean, ms?: number): Promise<ReceivedMail>
  /** Messages per Message-ID: to assert "each exactly once". */
  countByMessageId(): Map<string, number>
  /** Outage: stops listening (connections are refused) until up(). */
  down(): Promise<void>
  /** Listens again on the same port. */
  up(): Promise<void>
  /** Answers every later message with this SMTP reply (e.g. 451 temporary, 550 permanent) until cleared with null. */
  refuseWith(reply: {code: number; message?: string} | null): void
  stop(): Promise<void>
}

/**
 * An SMTP server in-process on 127.0.0.1 (a free port, no TLS) that records what it accepts.
 * Authentication is optional; when a client authenticates, the user and password must be the
 * sink's (otherwise 535), so a test sees that the daemon sends its credentials.
 */
export async function startSmtpSink(options: {user?: string; password?: string} = {}): Promise<SmtpSink> {
  const user = options.user ?? 'sink-user'
  const password = options.password ?? 'sink-password-7f3a'
  const port = await findFreePort('127.0.0.1')
  const messages: ReceivedMail[] = []
  const waiters = new Set<() => void>()
  let refusal: {code: number; message?: string} | null = null
  let server: SMTPServer | null = null

  const serverOptions: SMTPServerOptions = {
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    closeTimeout: 50,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) callback(null, {user: auth.username})
      else callback(Object.assign(new Error('Invalid username or password'), {responseCode: 535}))
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        if (refusal) {
          callback(Object.assign(new Error(refusal.message ?? 'Refused by the test sink'), {responseCode: refusal.code}))
          return
        }
        const raw = Buffer.concat(chunks).toString('utf8')
        messages.push(toReceivedMail(raw, session))
        for (const wake of waiters) wake()
        callback(null)
      })
    },
  }

  async function listen(): Promise<void> {
    const instance = new SMTPServer(serverOptions)
    await new Promise<void>((resolve, reject) => {
      instance.server.once('error', reject)
      instance.listen(port, '127.0.0.1', () => {
        instance.server.off('error', reject)
        resolve()
      })
    })
    // A client dropping the connection is a normal event here, not a crash of the test run.
    instance.on('error', () => {})
    server = instance
  }

  async function close(): Promise<void> {
    const instance = server
    server = null
    if (instance) await new Promise<void>((resolve) => instance.close(() => resolve()))
  }

  await listen()
  return {
    url: `smtp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    anonymousUrl: `smtp://127.0.0.1:${port}`,
    port,
    user,
    password,
    messages,
    waitFor(predicate = () => true, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate)
          if (!found) return false
          clearTimeout(timer)
          waiters.delete(wake)
          resolve(found)
          return true
        }
        const wake = () => void check()
        const timer = setTimeout(() => {
          waiters.delete(wake)
          reject(new Error(`no matching mail at the SMTP sink within ${ms} ms (${messages.length} received)`))
        }, ms)
        waiters.add(wake)
        check()
      })
    },
    countByMessageId() {
      const counts = new Map<string, number>()
      for (const mail of messages) counts.set(mail.messageId, (counts.get(mail.messageId) ?? 0) + 1)
      return counts
    },
    down: close,
    async up() {
      if (!server) await listen()
    },
    refuseWith(reply) {
      refusal = reply
    },
    stop: close,
  }
}

function toReceivedMail(raw: string, session: Parameters<NonNullable<SMTPServerOptions['onData']>>[1]): ReceivedMail {
  const mime: MimePart = readMime(raw)
  const text = findPart(mime, 'text/plain')?.body ?? ''
  return {
    raw,
    envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    envelopeTo: session.envelope.rcptTo.map((address) => address.address),
    headers: mime.headers,
    from: mime.headers.from ?? '',
    to: mime.headers.to ?? '',
    subject: mime.headers.subject ?? '',
    messageId: mime.headers['message-id'] ?? '',
    text,
    html: findPart(mime, 'text/html')?.body ?? '',
    links: text.match(/https?:\/\/[^\s<>"]+/g) ?? [],
    user: typeof session.user === 'string' ? session.user : null,
  }
}
