import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderRoles} from './render.js'

export default class RoleList extends BaseCommand<typeof RoleList> {
  static override summary = "List an organization's roles: the built-in ones and its custom roles"
  static override args = {org: Args.string({description: 'Organization slug or id', required: true})}

  async run() {
    const core = await this.openCore()
    const roles = await core.roles.listRoles(this.actor(), {org: this.args.org})
    this.log(renderRoles(roles))
    return roles
  }
}
