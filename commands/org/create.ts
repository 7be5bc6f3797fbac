import {Flags} from '@oclif/core'
import {ORG_TIERS} from '../../src/tenancy/org-repo.js'
import {BaseCommand} from '../lib/base-command.js'
import {renderOrganization} from './render.js'

export default class OrgCreate extends BaseCommand<typeof OrgCreate> {
  static override summary = 'Create an organization (tenant)'
  static override examples = ['<%= config.bin %> org create --name "Acme Corp" --slug acme --owner ada@example.com']
  static override flags = {
    name: Flags.string({description: 'Display name', required: true}),
    slug: Flags.string({description: 'URL-safe identifier, 2–63 of a-z 0-9 - (default: from the name)'}),
    tier: Flags.option({description: 'Plan tier', options: ORG_TIERS, default: 'free' as const})(),
    owner: Flags.string({description: 'Email or id of a user to make owner, in the same transaction'}),
    'if-not-exists': Flags.boolean({description: 'Succeed and print the existing organization when the slug and name match'}),
  }

  async run() {
    const core = await this.openCore()
    const {org, created} = await core.orgs.createOrg(this.actor(), {
      name: this.flags.name,
      slug: this.flags.slug,
      tier: this.flags.tier,
      owner: this.flags.owner,
      ifNotExists: this.flags['if-not-exists'],
    })
    this.log(created ? `Created organization ${org.slug} (${org.id})` : `Organization ${org.slug} already exists (${org.id})`)
    this.log(renderOrganization(org))
    return {...org, created}
  }
}
