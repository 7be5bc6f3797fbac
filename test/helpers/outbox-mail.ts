import type {Core} from '../../src/core.js'
import {mailBodyContext} from '../../src/mail/mail-outbox.js'
import {openSealedText} from '../../src/security/encryption.js'

export interface QueuedMail {
  id: string
  kind: string
  to: string
  subject: string
  status: string
  text: string
  html: string
  /** The links in the text body. */
  links: string[]
}

/**
 * The mails in the outbox (oldest first), bodies opened with the core's secret key, optionally
 * only those to one address or of one kind. Reads the database: for tests of what a change
 * enqueued, without a mail server. (Sent mails have no body any more: text and html are ''.)
 */
export async function queuedMails(core: Core, filter: {to?: string; kind?: string} = {}): Promise<QueuedMail[]> {
  let query = core.database.db.selectFrom('mail_outbox').selectAll().orderBy('created_at').orderBy('id')
  if (filter.to) query = query.where('to_address', '=', filter.to.toLowerCase())
  if (filter.kind) query = query.where('kind', '=', filter.kind)
  const rows = await query.execute()
  return rows.map((row) => {
    const body = row.body_sealed ? (JSON.parse(openSealedText(core.secretKey.get(), row.body_sealed, mailBodyContext(row.id))) as {text: string; html: string}) : {text: '', html: ''}
    return {id: row.id, kind: row.kind, to: row.to_address, subject: row.subject, status: row.status, ...body, links: body.text.match(/https?:\/\/\S+/g) ?? []}
  })
}

/** The newest queued mail to `to` (of `kind`, when given); throws when there is none. */
export async function latestMail(core: Core, to: string, kind?: string): Promise<QueuedMail> {
  const mails = await queuedMails(core, {to, kind})
  const mail = mails.at(-1)
  if (!mail) throw new Error(`no mail${kind ? ` of kind ${kind}` : ''} to ${to} in the outbox`)
  return mail
}

/** The value of query parameter `name` in the mail's first link that has it. */
export function tokenFromMail(mail: QueuedMail, name = 'token'): string {
  for (const link of mail.links) {
    const value = new URL(link).searchParams.get(name)
    if (value) return value
  }
  throw new Error(`no link with ?${name}= in mail ${mail.kind} to ${mail.to}`)
}
