import {Args} from '@oclif/core'
import {DomainError} from '../../src/errors/domain-error.js'
import {BaseCommand} from '../lib/base-command.js'

export default class WebhookTest extends BaseCommand<typeof WebhookTest> {
  static override summary = 'Send a webhook.test message to an endpoint now and show the answer'
  static override description = 'Sent whatever the circuit breaker says. Exits 69 (webhook.delivery_failed) when the receiver does not answer 2xx; the test delivery is then retried like any other.'
  static override args = {id: Args.string({description: 'Webhook id', required: true})}

  async run() {
    const core = await this.openCore()
    const outcome = await core.webhooks.testWebhook(this.actor(), {id: this.args.id})
    if (outcome.status !== 'succeeded') {
      throw new DomainError('webhook.delivery_failed', `The test message was not accepted: ${outcome.error}`, {delivery_id: outcome.id, status_code: outcome.statusCode, error: outcome.error, status: outcome.status === 'retry' ? 'pending' : 'failed'})
    }
    this.log(`Test message ${outcome.messageId} accepted: HTTP ${outcome.statusCode} in ${outcome.durationMs} ms`)
    return outcome
  }
}
