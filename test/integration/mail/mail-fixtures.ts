import type {Core} from '../../../src/core.js'
import {composeMail} from '../../../src/mail/mail-message.js'

/** Enqueues `count` mails (kind `test_fixture`, to n@example.test), each in its own transaction; returns their ids and Message-IDs. */
export async function enqueueMails(core: Core, count: number, prefix = 'rcpt'): Promise<{id: string; messageId: string}[]> {
  const queued: {id: string; messageId: string}[] = []
  for (let index = 0; index < count; index++) {
    const message = composeMail({kind: 'test_fixture', to: `${prefix}${index}@example.test`, subject: `Fixture ${index}`, paragraphs: [`Mail number ${index}.`], action: {label: 'Open', url: `${core.publicUrl}/fixture?n=${index}`}})
    queued.push(await core.database.db.transaction().execute((tx) => core.mail.enqueue(tx, message)))
  }
  return queued
}

/** The outbox row of a mail, as stored. */
export function outboxRow(core: Core, id: string) {
  return core.database.db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
}
