import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'

export default class UserDisable extends BaseCommand<typeof UserDisable> {
  static override summary = 'Disable a user: they can no longer log in, their sessions end and their access tokens are refused'
  static override description = 'The user keeps their data and memberships; `user enable` lets them log in again. Running daemons refuse their live access tokens within 2 seconds.'
  static override args = {user: Args.string({description: 'Email or id', required: true})}

  async run() {
    const core = await this.openCore()
    const user = await core.users.disableUser(this.actor(), {user: this.args.user})
    this.log(`Disabled user ${user.email} (enable again with \`saas-ctl user enable ${user.email}\`)`)
    return user
  }
}
