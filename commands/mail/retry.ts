import {Args, Flags} from '@oclif/core'
import {DomainError} from '../../src/errors/domain-error.js'
import {BaseCommand} from '../lib/base-command.js'

export default class MailRetry extends BaseCommand<typeof MailRetry> {
  static override summary = 'Put a failed mail (or with --failed every failed mail) back in the outbox'
  static override description = 'The mail is due at once with its attempts counted from zero; a running daemon sends it within mail_poll_ms. Audited (mail.retried).'
  static override args = {id: Args.string({description: 'Mail id, as `saas-ctl mail list` shows it'})}
  static override flags = {failed: Flags.boolean({description: 'Retry every failed mail'})}

  async run() {
    const core = await this.openCore()
    if (this.flags.failed === Boolean(this.args.id)) throw new DomainError('validation.failed', 'Give a mail id, or --failed')
    if (this.flags.failed) {
      const {ids} = await core.mailAdmin.retryFailedMails(this.actor())
      this.log(`${ids.length} failed mail(s) back in the outbox`)
      return {ids}
    }
    const {id} = await core.mailAdmin.retryMail(this.actor(), {id: this.args.id!})
    this.log(`Mail ${id} back in the outbox`)
    return {ids: [id]}
  }
}
