import {Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderOrganizations} from './render.js'

export default class OrgList extends BaseCommand<typeof OrgList> {
  static override summary = 'List organizations'
  static override flags = {
    'include-deleted': Flags.boolean({description: 'Include soft-deleted organizations'}),
  }

  async run() {
    const core = await this.openCore()
    const orgs = await core.orgs.listOrgs(this.actor(), {includeDeleted: this.flags['include-deleted']})
    this.log(renderOrganizations(orgs))
    return orgs
  }
}
