import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderInvitations} from './render.js'

export default class InviteList extends BaseCommand<typeof InviteList> {
  static override summary = 'List the pending invitations of an organization (not expired)'
  static override args = {org: Args.string({description: 'Organization slug or id', required: true})}

  async run() {
    const core = await this.openCore()
    const invitations = await core.invitations.listInvitations(this.actor(), {org: this.args.org})
    this.log(renderInvitations(invitations))
    return invitations
  }
}
