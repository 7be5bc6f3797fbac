import {Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderTable} from '../lib/render-table.js'

export default class SessionList extends BaseCommand<typeof SessionList> {
  static override summary = "List a user's live sessions"
  static override flags = {
    user: Flags.string({description: 'Email or id', required: true}),
  }

  async run() {
    const core = await this.openCore()
    const sessions = await core.sessions.listSessions(this.actor(), {user: this.flags.user})
    this.log(renderTable(sessions, [
      {header: 'id', value: (session) => session.id},
      {header: 'org', value: (session) => session.orgId},
      {header: 'ip', value: (session) => session.ip},
      {header: 'user agent', value: (session) => session.userAgent},
      {header: 'created', value: (session) => session.createdAt},
      {header: 'last used', value: (session) => session.lastUsedAt},
      {header: 'expires', value: (session) => session.expiresAt},
    ]))
    return sessions
  }
}
