import {BaseCommand} from '../lib/base-command.js'
import {renderTable} from '../lib/render-table.js'

export default class KeysList extends BaseCommand<typeof KeysList> {
  static override summary = 'List the token signing keys (public information only)'

  async run() {
    const core = await this.openCore()
    const keys = await core.signingKeys.listKeys()
    this.log(renderTable(keys, [
      {header: 'kid', value: (key) => key.kid},
      {header: 'alg', value: (key) => key.algorithm},
      {header: 'status', value: (key) => key.status},
      {header: 'created', value: (key) => key.createdAt},
      {header: 'retired', value: (key) => key.retiredAt},
      {header: 'published until', value: (key) => key.publishedUntil},
    ]))
    return keys
  }
}
