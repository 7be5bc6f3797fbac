import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderWebhook} from './render.js'

export default class WebhookUpdate extends BaseCommand<typeof WebhookUpdate> {
  static override summary = 'Change a webhook endpoint: URL, events, description, enabled or disabled'
  static override args = {id: Args.string({description: 'Webhook id (see `webhook list`)', required: true})}
  static override flags = {
    url: Flags.string({description: 'New URL'}),
    events: Flags.string({description: 'Comma-separated event types or families'}),
    description: Flags.string({description: 'A note for operators'}),
    disable: Flags.boolean({description: 'Stop sending to it (deliveries wait)', exclusive: ['enable']}),
    enable: Flags.boolean({description: 'Send to it again (closes its circuit breaker)', exclusive: ['disable']}),
    'all-orgs': Flags.boolean({description: 'Instance-wide: also every organization\'s events', allowNo: true}),
  }

  async run() {
    const core = await this.openCore()
    const events = this.flags.events?.split(',').map((event) => event.trim()).filter(Boolean)
    const disabled = this.flags.disable ? true : this.flags.enable ? false : undefined
    const webhook = await core.webhooks.updateWebhook(this.actor(), {id: this.args.id, url: this.flags.url, events, description: this.flags.description, disabled, includeAllOrgs: this.flags['all-orgs']})
    this.log(renderWebhook(webhook))
    return webhook
  }
}
