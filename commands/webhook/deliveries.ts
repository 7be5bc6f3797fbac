import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderDeliveries} from './render.js'

export default class WebhookDeliveries extends BaseCommand<typeof WebhookDeliveries> {
  static override summary = 'The delivery log of a webhook endpoint, newest first'
  static override args = {id: Args.string({description: 'Webhook id', required: true})}
  static override flags = {
    status: Flags.string({description: 'Only deliveries in this state', options: ['pending', 'succeeded', 'failed']}),
    limit: Flags.integer({description: 'At most this many (1–1000)', default: 50}),
  }

  async run() {
    const core = await this.openCore()
    const deliveries = await core.webhooks.listDeliveries(this.actor(), {id: this.args.id, status: this.flags.status as 'pending' | undefined, limit: this.flags.limit})
    this.log(renderDeliveries(deliveries))
    return deliveries
  }
}
