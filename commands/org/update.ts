import {Args, Flags} from '@oclif/core'
import {ORG_TIERS} from '../../src/tenancy/org-repo.js'
import {BaseCommand} from '../lib/base-command.js'
import {renderOrganization} from './render.js'

export default class OrgUpdate extends BaseCommand<typeof OrgUpdate> {
  static override summary = 'Rename an organization, change its tier or its custom domain'
  static override examples = ['<%= config.bin %> org update acme --domain login.acme.com', "<%= config.bin %> org update acme --domain ''"]
  static override args = {org: Args.string({description: 'Slug or id', required: true})}
  static override flags = {
    name: Flags.string({description: 'New display name'}),
    tier: Flags.option({description: 'New plan tier', options: ORG_TIERS})(),
    domain: Flags.string({description: "Custom domain that names the organization at login (unique); '' clears it"}),
  }

  async run() {
    const core = await this.openCore()
    const org = await core.orgs.updateOrg(this.actor(), {org: this.args.org, name: this.flags.name, tier: this.flags.tier, domain: this.flags.domain})
    this.log(`Updated organization ${org.slug}`)
    this.log(renderOrganization(org))
    return org
  }
}
