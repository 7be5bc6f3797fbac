import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'

export default class UserEnable extends BaseCommand<typeof UserEnable> {
  static override summary = 'Enable a disabled user again'
  static override args = {user: Args.string({description: 'Email or id', required: true})}

  async run() {
    const core = await this.openCore()
    const user = await core.users.enableUser(this.actor(), {user: this.args.user})
    this.log(`Enabled user ${user.email}`)
    return user
  }
}
