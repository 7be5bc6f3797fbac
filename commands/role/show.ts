import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderRole} from './render.js'

export default class RoleShow extends BaseCommand<typeof RoleShow> {
  static override summary = 'Show one role of an organization with its permissions'
  static override args = {
    org: Args.string({description: 'Organization slug or id', required: true}),
    role: Args.string({description: 'Role key', required: true}),
  }

  async run() {
    const core = await this.openCore()
    const role = await core.roles.showRole(this.actor(), {org: this.args.org, role: this.args.role})
    this.log(renderRole(role))
    return role
  }
}
