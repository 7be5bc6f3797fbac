import {Args, Flags} from '@oclif/core'
import {DomainError} from '../../src/errors/domain-error.js'
import {BaseCommand} from '../lib/base-command.js'

export default class SessionRevoke extends BaseCommand<typeof SessionRevoke> {
  static override summary = 'Revoke one session, or with --user every session of a user'
  static override description = 'Running daemons refuse the revoked sessions’ access tokens within 2 seconds (they follow the revocation log).'
  static override args = {session: Args.string({description: 'Session id'})}
  static override flags = {
    user: Flags.string({description: 'Revoke every session of this user (email or id) and void their live access tokens'}),
  }

  async run() {
    const core = await this.openCore()
    if (this.flags.user && this.args.session) throw new DomainError('validation.failed', 'Give a session id or --user, not both')
    if (this.flags.user) {
      const revoked = await core.sessions.revokeAllSessionsOfUser(this.actor(), {user: this.flags.user})
      this.log(`Revoked ${revoked} session(s) of ${this.flags.user}`)
      return {user: this.flags.user, revokedSessions: revoked}
    }
    if (!this.args.session) throw new DomainError('validation.failed', 'Give a session id or --user')
    const session = await core.sessions.revokeSession(this.actor(), {session: this.args.session})
    this.log(`Revoked session ${session.id}`)
    return {...session, revoked: true}
  }
}
