import {Flags} from '@oclif/core'
import {MAIL_STATUSES} from '../../src/mail/mail-schemas.js'
import {BaseCommand} from '../lib/base-command.js'
import {renderTable} from '../lib/render-table.js'

export default class MailList extends BaseCommand<typeof MailList> {
  static override summary = 'List the mail outbox, newest first'
  static override description = 'Shows where each mail stands (pending, sent, failed), its attempts and last error; never its body.'
  static override flags = {
    status: Flags.string({description: 'Only mails in this state', options: [...MAIL_STATUSES]}),
    limit: Flags.integer({description: 'At most this many mails (1–1000)', default: 100}),
  }

  async run() {
    const core = await this.openCore()
    const mails = await core.mailAdmin.listMails(this.actor(), {status: this.flags.status, limit: this.flags.limit})
    this.log(renderTable(mails, [
      {header: 'id', value: (mail) => mail.id},
      {header: 'kind', value: (mail) => mail.kind},
      {header: 'to', value: (mail) => mail.to},
      {header: 'status', value: (mail) => mail.status},
      {header: 'attempts', value: (mail) => mail.attempts},
      {header: 'next attempt', value: (mail) => mail.nextAttemptAt},
      {header: 'last error', value: (mail) => mail.lastError},
      {header: 'created', value: (mail) => mail.createdAt},
      {header: 'sent', value: (mail) => mail.sentAt},
    ]))
    return mails
  }
}
