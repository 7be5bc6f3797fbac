import {Args, Flags} from '@oclif/core'
import {CUSTOM_ROLE_MAX_LEVEL} from '../../src/access/permission-catalog.js'
import {BaseCommand} from '../lib/base-command.js'
import {parseLevel, parsePermissionList} from './parse.js'
import {renderRole} from './render.js'

export default class RoleCreate extends BaseCommand<typeof RoleCreate> {
  static override summary = 'Create a custom role in an organization'
  static override description = `A custom role is a set of catalog permissions (see \`saas-ctl permission list\`) with a level from 1 (like viewer) to ${CUSTOM_ROLE_MAX_LEVEL} (like admin); it always ranks below owner.`
  static override examples = ['<%= config.bin %> role create acme --key billing --name "Billing" --permissions org.read,members.read --level 2']
  static override args = {org: Args.string({description: 'Organization slug or id', required: true})}
  static override flags = {
    key: Flags.string({description: 'Role key: 2–40 of a-z 0-9 _ -, starting with a letter', required: true}),
    name: Flags.string({description: 'Display name', required: true}),
    permissions: Flags.string({description: 'Comma-separated permission keys', required: true}),
    level: Flags.string({description: `Rank, 1–${CUSTOM_ROLE_MAX_LEVEL} (default 1)`}),
  }

  async run() {
    const core = await this.openCore()
    const role = await core.roles.createRole(this.actor(), {
      org: this.args.org,
      key: this.flags.key,
      name: this.flags.name,
      permissions: parsePermissionList(this.flags.permissions) ?? [],
      level: parseLevel(this.flags.level),
    })
    this.log(`Created role ${role.key} in ${this.args.org}`)
    this.log(renderRole(role))
    return role
  }
}
