import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'

export default class MemberRemove extends BaseCommand<typeof MemberRemove> {
  static override summary = 'Remove a member from an organization'
  static override description = 'The user account stays. Removing the last owner of an organization is refused; make someone else owner first.'
  static override args = {
    org: Args.string({description: 'Organization slug or id', required: true}),
    user: Args.string({description: 'User email or id', required: true}),
  }

  async run() {
    const core = await this.openCore()
    const removed = await core.members.removeMember(this.actor(), {org: this.args.org, user: this.args.user})
    this.log(`Removed ${removed.email} (${removed.role}) from ${this.args.org}`)
    return {...removed, removed: true}
  }
}
