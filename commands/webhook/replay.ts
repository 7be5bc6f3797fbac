import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'

export default class WebhookReplay extends BaseCommand<typeof WebhookReplay> {
  static override summary = 'Send a delivered or failed webhook delivery again (same webhook-id)'
  static override description = 'The delivery becomes pending and due now; a running daemon sends it. Receivers that already have it may drop it as a repeat of its webhook-id.'
  static override args = {deliveryId: Args.string({description: 'Delivery id (see `webhook deliveries`)', required: true})}

  async run() {
    const core = await this.openCore()
    const delivery = await core.webhooks.replayDelivery(this.actor(), {deliveryId: this.args.deliveryId})
    this.log(`Delivery ${delivery.id} (${delivery.eventType}) queued again as ${delivery.messageId}`)
    return delivery
  }
}
