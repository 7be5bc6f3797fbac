import {Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderWebhooks} from './render.js'

export default class WebhookList extends BaseCommand<typeof WebhookList> {
  static override summary = 'List the webhook endpoints of an organization, or without --org the instance-wide ones'
  static override flags = {org: Flags.string({description: 'Organization slug or id'})}

  async run() {
    const core = await this.openCore()
    const webhooks = await core.webhooks.listWebhooks(this.actor(), {org: this.flags.org})
    this.log(renderWebhooks(webhooks))
    return webhooks
  }
}
