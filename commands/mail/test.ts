import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'

export default class MailTest extends BaseCommand<typeof MailTest> {
  static override summary = 'Send a test mail now through the configured transport'
  static override description =
    'Enqueues a test mail and delivers it at once: through smtp_url when set, else as an .eml file in mail_dir. Prints where it went; exits 69 (mail.delivery_failed) when the relay refuses or cannot be reached, and the mail then stays in the outbox for the daemon to retry.'
  static override args = {to: Args.string({description: 'Recipient address', required: true})}

  async run() {
    const core = await this.openCore()
    const result = await core.mailAdmin.sendTestMail(this.actor(), {to: this.args.to})
    const {receipt} = result
    if (receipt.via === 'file') this.log(`Test mail to ${result.to} written to ${receipt.path} (no smtp_url set)`)
    else this.log(`Test mail to ${result.to} accepted by ${receipt.relay}: ${receipt.response}`)
    return result
  }
}
