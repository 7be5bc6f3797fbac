import {BaseCommand} from '../lib/base-command.js'
import {renderUsers} from './render.js'

export default class UserList extends BaseCommand<typeof UserList> {
  static override summary = 'List users'

  async run() {
    const core = await this.openCore()
    const users = await core.users.listUsers(this.actor())
    this.log(renderUsers(users))
    return users
  }
}
