import {Args, Flags} from '@oclif/core'
import {CUSTOM_ROLE_MAX_LEVEL} from '../../src/access/permission-catalog.js'
import {BaseCommand} from '../lib/base-command.js'
import {parseLevel, parsePermissionList} from './parse.js'
import {renderRole} from './render.js'

export default class RoleUpdate extends BaseCommand<typeof RoleUpdate> {
  static override summary = "Change a custom role's name, permissions or level"
  static override description = '--permissions replaces the whole set. Built-in roles cannot be changed.'
  static override args = {
    org: Args.string({description: 'Organization slug or id', required: true}),
    role: Args.string({description: 'Role key', required: true}),
  }
  static override flags = {
    name: Flags.string({description: 'New display name'}),
    permissions: Flags.string({description: 'Comma-separated permission keys (replaces the current set)'}),
    level: Flags.string({description: `New rank, 1–${CUSTOM_ROLE_MAX_LEVEL}`}),
  }

  async run() {
    const core = await this.openCore()
    const role = await core.roles.updateRole(this.actor(), {
      org: this.args.org,
      role: this.args.role,
      name: this.flags.name,
      permissions: parsePermissionList(this.flags.permissions),
      level: parseLevel(this.flags.level),
    })
    this.log(`Updated role ${role.key} in ${this.args.org}`)
    this.log(renderRole(role))
    return role
  }
}
