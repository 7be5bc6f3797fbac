import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderMember} from './render.js'

export default class MemberAdd extends BaseCommand<typeof MemberAdd> {
  static override summary = 'Add a user to an organization with a role'
  static override examples = ['<%= config.bin %> member add acme ada@example.com --role admin']
  static override args = {
    org: Args.string({description: 'Organization slug or id', required: true}),
    user: Args.string({description: 'User email or id', required: true}),
  }
  static override flags = {
    role: Flags.string({description: 'Role key: owner, admin, member, viewer or a custom role of the organization', required: true}),
  }

  async run() {
    const core = await this.openCore()
    const member = await core.members.addMember(this.actor(), {org: this.args.org, user: this.args.user, role: this.flags.role})
    this.log(`Added ${member.email} to ${this.args.org} as ${member.role}`)
    this.log(renderMember(member))
    return member
  }
}
