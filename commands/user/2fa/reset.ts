import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/base-command.js'
import {confirmOrRefuse} from '../../lib/confirm.js'

export default class User2faReset extends BaseCommand<typeof User2faReset> {
  static override summary = "Remove a user's 2FA (a lost device): their authenticator secret and recovery codes"
  static override description = 'The user then logs in with the password alone (and may enrol again); an organization that requires 2FA refuses them until they do. Audited (user.mfa_reset) and mailed to the user.'
  static override args = {user: Args.string({description: 'Email or id', required: true})}
  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation'}),
  }

  async run() {
    const core = await this.openCore()
    await confirmOrRefuse(`Remove the two-factor authentication of "${this.args.user}"?`, this.flags.yes)
    const {user} = await core.mfa.resetForUser(this.actor(), {user: this.args.user})
    this.log(`Two-factor authentication removed for ${user.email}`)
    return {user, reset: true}
  }
}
