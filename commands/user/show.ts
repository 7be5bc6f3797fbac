import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderMemberships, renderUser} from './render.js'

export default class UserShow extends BaseCommand<typeof UserShow> {
  static override summary = 'Show one user with their memberships'
  static override args = {user: Args.string({description: 'Email or id', required: true})}

  async run() {
    const core = await this.openCore()
    const user = await core.users.showUser(this.actor(), {user: this.args.user})
    this.log(renderUser(user))
    this.log('')
    this.log('Memberships:')
    this.log(renderMemberships(user.memberships))
    return user
  }
}
