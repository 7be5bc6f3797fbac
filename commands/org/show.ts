import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderOrganization} from './render.js'

export default class OrgShow extends BaseCommand<typeof OrgShow> {
  static override summary = 'Show one organization'
  static override args = {org: Args.string({description: 'Slug or id', required: true})}

  async run() {
    const core = await this.openCore()
    const org = await core.orgs.showOrg(this.actor(), {org: this.args.org})
    this.log(renderOrganization(org))
    return org
  }
}
