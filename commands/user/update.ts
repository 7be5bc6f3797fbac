import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderUser} from './render.js'

export default class UserUpdate extends BaseCommand<typeof UserUpdate> {
  static override summary = "Change a user's name or email"
  static override args = {user: Args.string({description: 'Email or id', required: true})}
  static override flags = {
    name: Flags.string({description: 'New display name'}),
    email: Flags.string({description: 'New email address'}),
  }

  async run() {
    const core = await this.openCore()
    const user = await core.users.updateUser(this.actor(), {user: this.args.user, name: this.flags.name, email: this.flags.email})
    this.log(`Updated user ${user.email}`)
    this.log(renderUser(user))
    return user
  }
}
