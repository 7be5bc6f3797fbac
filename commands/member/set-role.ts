import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderMember} from './render.js'

export default class MemberSetRole extends BaseCommand<typeof MemberSetRole> {
  static override summary = "Change a member's role"
  static override description = 'Demoting the last owner of an organization is refused; make someone else owner first.'
  static override examples = ['<%= config.bin %> member set-role acme ada@example.com owner']
  static override args = {
    org: Args.string({description: 'Organization slug or id', required: true}),
    user: Args.string({description: 'User email or id', required: true}),
    role: Args.string({description: 'Role key', required: true}),
  }

  async run() {
    const core = await this.openCore()
    const member = await core.members.setMemberRole(this.actor(), {org: this.args.org, user: this.args.user, role: this.args.role})
    this.log(`${member.email} is now ${member.role} of ${this.args.org}`)
    this.log(renderMember(member))
    return member
  }
}
