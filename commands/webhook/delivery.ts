import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderRecord, renderTable} from '../lib/render-table.js'

export default class WebhookDelivery extends BaseCommand<typeof WebhookDelivery> {
  static override summary = 'One webhook delivery with every attempt: time, duration, status code or error'
  static override args = {deliveryId: Args.string({description: 'Delivery id (see `webhook deliveries`)', required: true})}

  async run() {
    const core = await this.openCore()
    const delivery = await core.webhooks.getDelivery(this.actor(), {deliveryId: this.args.deliveryId})
    this.log(
      renderRecord([
        ['id', delivery.id],
        ['webhook', delivery.endpointId],
        ['event', `${delivery.eventType} (${delivery.eventId})`],
        ['webhook-id', delivery.messageId],
        ['status', delivery.status],
        ['next attempt', delivery.nextAttemptAt],
        ['delivered', delivery.deliveredAt],
      ]),
    )
    this.log('')
    this.log(
      renderTable(delivery.attemptLog, [
        {header: 'attempted', value: (attempt) => attempt.attemptedAt},
        {header: 'ms', value: (attempt) => attempt.durationMs},
        {header: 'outcome', value: (attempt) => attempt.outcome},
        {header: 'code', value: (attempt) => attempt.statusCode},
        {header: 'error', value: (attempt) => attempt.error},
      ]),
    )
    return delivery
  }
}
