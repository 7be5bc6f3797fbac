import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {confirmOrRefuse} from '../lib/confirm.js'
import {renderInvitation} from './render.js'

export default class InviteRevoke extends BaseCommand<typeof InviteRevoke> {
  static override summary = 'Revoke a pending invitation'
  static override description = 'Its link stops working and its seat is free. Revoking a revoked invitation changes nothing.'
  static override args = {id: Args.string({description: 'Invitation id (see `invite list`)', required: true})}
  static override flags = {yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation'})}

  async run() {
    const core = await this.openCore()
    await confirmOrRefuse(`Revoke invitation ${this.args.id}? Its link stops working.`, this.flags.yes)
    const invitation = await core.invitations.revokeInvitation(this.actor(), {id: this.args.id})
    this.log(`Revoked the invitation of ${invitation.email}`)
    this.log(renderInvitation(invitation))
    return invitation
  }
}
