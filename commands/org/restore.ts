import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'

export default class OrgRestore extends BaseCommand<typeof OrgRestore> {
  static override summary = 'Restore a soft-deleted organization'
  static override args = {org: Args.string({description: 'Slug or id', required: true})}

  async run() {
    const core = await this.openCore()
    const org = await core.orgs.restoreOrg(this.actor(), {org: this.args.org})
    this.log(`Restored organization ${org.slug}`)
    return org
  }
}
