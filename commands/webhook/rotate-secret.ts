import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'

export default class WebhookRotateSecret extends BaseCommand<typeof WebhookRotateSecret> {
  static override summary = 'Give a webhook endpoint a new secret; the old one keeps signing for a while'
  static override description = 'During the overlap every message carries two signatures (new and old), so receivers can switch without missing one.'
  static override args = {id: Args.string({description: 'Webhook id', required: true})}
  static override flags = {overlap: Flags.integer({description: 'Seconds the old secret keeps signing (0–604800)', default: 86_400})}

  async run() {
    const core = await this.openCore()
    const {webhook, secret} = await core.webhooks.rotateSecret(this.actor(), {id: this.args.id, overlapSeconds: this.flags.overlap})
    this.log(`New secret of webhook ${webhook.id}${webhook.previousSecretExpiresAt ? ` (the old one signs too until ${webhook.previousSecretExpiresAt})` : ''}:`)
    this.log(`secret: ${secret}`)
    this.log('Store it now: it is shown only this once.')
    return {...webhook, secret}
  }
}
