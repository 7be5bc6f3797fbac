import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {confirmOrRefuse} from '../lib/confirm.js'

export default class UserDelete extends BaseCommand<typeof UserDelete> {
  static override summary = 'Delete a user for good, with their memberships and sessions'
  static override description = 'Refused while the user is the last owner of an organization. The audit log keeps their events. To keep the user but lock them out, use `user disable`.'
  static override args = {user: Args.string({description: 'Email or id', required: true})}
  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation'}),
  }

  async run() {
    const core = await this.openCore()
    await confirmOrRefuse(`Delete user "${this.args.user}" with their memberships and sessions? This cannot be undone.`, this.flags.yes)
    const user = await core.users.deleteUser(this.actor(), {user: this.args.user})
    this.log(`Deleted user ${user.email}`)
    return {...user, deleted: true}
  }
}
