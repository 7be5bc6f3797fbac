import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {confirmOrRefuse} from '../lib/confirm.js'

export default class FlagDelete extends BaseCommand<typeof FlagDelete> {
  static override summary = 'Delete a feature flag and its overrides'
  static override args = {key: Args.string({description: 'Flag key', required: true})}
  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation'}),
  }

  async run() {
    const core = await this.openCore()
    await confirmOrRefuse(`Delete flag "${this.args.key}" and its overrides? This cannot be undone.`, this.flags.yes)
    const flag = await core.flags.deleteFlag(this.actor(), {key: this.args.key})
    this.log(`Deleted flag ${flag.key}`)
    return {...flag, deleted: true}
  }
}
