import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderWebhook} from './render.js'

export default class WebhookCreate extends BaseCommand<typeof WebhookCreate> {
  static override summary = 'Register a webhook endpoint of an organization, or without --org an instance-wide one'
  static override description =
    'The endpoint receives the audit events it subscribes to as Standard Webhooks messages, signed with its `whsec_` secret (printed once). An instance-wide endpoint receives the events of no organization (user.*, security.*) and, with --all-orgs, every organization\'s. Private and loopback addresses are refused unless webhook_allow_private is set. An organization has at most webhook_max_endpoints_per_org endpoints (the instance as many instance-wide ones).'
  static override examples = [
    '<%= config.bin %> webhook create https://hooks.acme.example/saas --org acme --events member.*,org.updated',
    '<%= config.bin %> webhook create https://siem.example/in --events "*" --all-orgs',
  ]
  static override args = {url: Args.string({description: 'http(s) URL of the receiver', required: true})}
  static override flags = {
    org: Flags.string({description: 'Organization slug or id (leave out for an instance-wide endpoint)'}),
    events: Flags.string({description: 'Comma-separated event types or families (member.*, *)', required: true}),
    description: Flags.string({description: 'A note for operators'}),
    'all-orgs': Flags.boolean({description: 'Instance-wide: also every organization\'s events', exclusive: ['org']}),
  }

  async run() {
    const core = await this.openCore()
    const events = this.flags.events.split(',').map((event) => event.trim()).filter(Boolean)
    const created = await core.webhooks.createWebhook(this.actor(), {org: this.flags.org, url: this.args.url, events, description: this.flags.description, includeAllOrgs: this.flags['all-orgs'] || undefined})
    this.log(renderWebhook(created.webhook))
    this.log('')
    this.log(`secret: ${created.secret}`)
    this.log('Store it now: it is shown only this once.')
    return {...created.webhook, secret: created.secret}
  }
}
