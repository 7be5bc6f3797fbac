import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'

export default class UserUnlock extends BaseCommand<typeof UserUnlock> {
  static override summary = 'Lift the lock that failed logins put on a user, and clear their failure count'
  static override description =
    'After lockout_threshold consecutive failed logins or 2FA codes an account is locked for lockout_seconds; this ends the lock at once on every daemon (locks live in the database). Audited as security.account_unlocked; the user is mailed when the account was locked.'
  static override args = {user: Args.string({description: 'Email or id', required: true})}

  async run() {
    const core = await this.openCore()
    const {user, wasLocked} = await core.loginGuard.unlockUser(this.actor(), {user: this.args.user})
    this.log(wasLocked ? `Unlocked user ${user.email}` : `User ${user.email} was not locked; failed-login count cleared`)
    return {user, wasLocked}
  }
}
