import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {confirmOrRefuse} from '../lib/confirm.js'

export default class WebhookDelete extends BaseCommand<typeof WebhookDelete> {
  static override summary = 'Delete a webhook endpoint with its deliveries'
  static override args = {id: Args.string({description: 'Webhook id', required: true})}
  static override flags = {yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation'})}

  async run() {
    const core = await this.openCore()
    await confirmOrRefuse(`Delete webhook ${this.args.id} and its pending deliveries?`, this.flags.yes)
    const result = await core.webhooks.deleteWebhook(this.actor(), {id: this.args.id})
    this.log(`Deleted webhook ${result.id} (${result.deliveriesDeleted} deliveries)`)
    return result
  }
}
