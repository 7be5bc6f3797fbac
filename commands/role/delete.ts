import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'

export default class RoleDelete extends BaseCommand<typeof RoleDelete> {
  static override summary = 'Delete a custom role that no member holds'
  static override args = {
    org: Args.string({description: 'Organization slug or id', required: true}),
    role: Args.string({description: 'Role key', required: true}),
  }

  async run() {
    const core = await this.openCore()
    const role = await core.roles.deleteRole(this.actor(), {org: this.args.org, role: this.args.role})
    this.log(`Deleted role ${role.key} from ${this.args.org}`)
    return {...role, deleted: true}
  }
}
