import {Args, Flags} from '@oclif/core'
import {ORG_TIERS} from '../../src/tenancy/org-repo.js'
import {BaseCommand} from '../lib/base-command.js'
import {renderOrganization} from './render.js'

export default class OrgUpdate extends BaseCommand<typeof OrgUpdate> {
  static override summary = 'Rename an organization, change its tier or its custom domain, require 2FA of its members'
  static override examples = ['<%= config.bin %> org update acme --domain login.acme.com', "<%= config.bin %> org update acme --domain ''", '<%= config.bin %> org update acme --require-2fa']
  static override args = {org: Args.string({description: 'Slug or id', required: true})}
  static override flags = {
    name: Flags.string({description: 'New display name'}),
    tier: Flags.option({description: 'New plan tier', options: ORG_TIERS})(),
    domain: Flags.string({description: "Custom domain that names the organization at login (unique); '' clears it"}),
    'require-2fa': Flags.boolean({
      allowNo: true,
      description: 'Members must have 2FA on to log in to it or switch into it (--no-require-2fa lifts it)',
    }),
  }

  async run() {
    const core = await this.openCore()
    const org = await core.orgs.updateOrg(this.actor(), {org: this.args.org, name: this.flags.name, tier: this.flags.tier, domain: this.flags.domain, require2fa: this.flags['require-2fa']})
    this.log(`Updated organization ${org.slug}`)
    this.log(renderOrganization(org))
    return org
  }
}
