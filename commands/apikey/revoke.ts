import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {confirmOrRefuse} from '../lib/confirm.js'

export default class ApiKeyRevoke extends BaseCommand<typeof ApiKeyRevoke> {
  static override summary = 'Revoke an API key'
  static override description = 'Running daemons refuse the key from its next request on (every request reads the key). Revoking a revoked key changes nothing.'
  static override args = {id: Args.string({description: 'Key id (see `apikey list`)', required: true})}
  static override flags = {yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation'})}

  async run() {
    const core = await this.openCore()
    await confirmOrRefuse(`Revoke API key ${this.args.id}? Whatever uses it stops working.`, this.flags.yes)
    const key = await core.apiKeys.revokeApiKey(this.actor(), {id: this.args.id})
    this.log(`Revoked API key ${key.name} (${key.prefix}…)`)
    return key
  }
}
