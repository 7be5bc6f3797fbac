import {Args, Flags} from '@oclif/core'
import {isDomainError} from '../../src/errors/domain-error.js'
import {BaseCommand} from '../lib/base-command.js'
import {renderInvitation} from '../invite/render.js'

export default class MemberInvite extends BaseCommand<typeof MemberInvite> {
  static override summary = 'Invite an email address to join an organization with a role'
  static override description =
    'Mails an accept link (through the outbox) and prints it: the link is shown only here and by `invite resend`. The invitation takes a seat of the organization until it is accepted, revoked or expires (invitation_ttl_seconds).'
  static override examples = ['<%= config.bin %> member invite acme ada@example.com --role member']
  static override args = {
    org: Args.string({description: 'Organization slug or id', required: true}),
    email: Args.string({description: 'Email address to invite', required: true}),
  }
  static override flags = {
    role: Flags.string({description: 'Role key: owner, admin, member, viewer or a custom role of the organization', required: true}),
    'if-not-exists': Flags.boolean({description: 'A pending invitation of the address is not an error (its link is not shown again; resend it for a new one)'}),
  }

  async run() {
    const core = await this.openCore()
    try {
      const issued = await core.invitations.invite(this.actor(), {org: this.args.org, email: this.args.email, role: this.flags.role})
      this.log(`Invited ${issued.invitation.email} to ${this.args.org} as ${issued.invitation.role}`)
      this.log(renderInvitation(issued.invitation))
      this.log(`accept link: ${issued.acceptUrl ?? '-'}`)
      return {...issued, created: true}
    } catch (error) {
      if (!this.flags['if-not-exists'] || !isDomainError(error) || error.code !== 'invitation.exists') throw error
      const email = this.args.email.trim().toLowerCase()
      const existing = (await core.invitations.listInvitations(this.actor(), {org: this.args.org})).find((invitation) => invitation.email === email)
      if (!existing) throw error
      this.log(`${existing.email} already has a pending invitation (see \`invite resend ${existing.id}\` for a new link)`)
      this.log(renderInvitation(existing))
      return {invitation: existing, acceptUrl: null, token: null, created: false}
    }
  }
}
