import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderMembers} from './render.js'

export default class MemberList extends BaseCommand<typeof MemberList> {
  static override summary = 'List the members of an organization'
  static override args = {org: Args.string({description: 'Organization slug or id', required: true})}

  async run() {
    const core = await this.openCore()
    const {items: members} = await core.members.listMembers(this.actor(), {org: this.args.org})
    this.log(renderMembers(members))
    return members
  }
}
