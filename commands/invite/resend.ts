import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderInvitation} from './render.js'

export default class InviteResend extends BaseCommand<typeof InviteResend> {
  static override summary = 'Mail a pending invitation again with a new link'
  static override description = 'The old link stops working and the expiry starts again. Prints the new link. An expired invitation needs a free seat again.'
  static override args = {id: Args.string({description: 'Invitation id (see `invite list`)', required: true})}

  async run() {
    const core = await this.openCore()
    const issued = await core.invitations.resendInvitation(this.actor(), {id: this.args.id})
    this.log(`Mailed a new link to ${issued.invitation.email}`)
    this.log(renderInvitation(issued.invitation))
    this.log(`accept link: ${issued.acceptUrl ?? '-'}`)
    return issued
  }
}
