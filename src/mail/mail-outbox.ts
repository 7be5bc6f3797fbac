import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {sealText} from '../security/encryption.js'
import type {SecretKeySource} from '../security/secret-key.js'
import type {ServiceDeps} from '../shared/service-deps.js'
import type {MailMessage} from './mail-message.js'

export type MailOutbox = ReturnType<typeof createMailOutbox>

/** The context a mail body is sealed under: a body copied to another row does not open. */
export const mailBodyContext = (mailId: string) => `mail_outbox:${mailId}`

/**
 * Writing mail: a row in the same transaction as the change that causes it (so a rolled-back
 * change sends nothing, and a committed one is never lost). The bodies carry one-time links,
 * so they are sealed with the deployment's secret key; the delivery job opens them.
 */
export function createMailOutbox(deps: ServiceDeps & {secretKey: SecretKeySource; messageIdDomain: string}) {
  return {
    async enqueue(tx: Kysely<Database>, message: MailMessage): Promise<{id: string; messageId: string}> {
      const id = deps.newId()
      const now = deps.clock.now().toISOString()
      const messageId = `<${id}@${deps.messageIdDomain}>`
      await tx
        .insertInto('mail_outbox')
        .values({
          id,
          kind: message.kind,
          to_address: message.to,
          user_id: message.userId,
          subject: message.subject,
          body_sealed: sealText(deps.secretKey.get(), JSON.stringify({text: message.text, html: message.html}), mailBodyContext(id)),
          message_id: messageId,
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          claimed_by: null,
          claimed_until: null,
          last_error: null,
          created_at: now,
          sent_at: null,
        })
        .execute()
      return {id, messageId}
    },
  }
}
