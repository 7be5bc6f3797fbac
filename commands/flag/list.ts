import {BaseCommand} from '../lib/base-command.js'
import {renderFlags} from './render.js'

export default class FlagList extends BaseCommand<typeof FlagList> {
  static override summary = 'List feature flags'

  async run() {
    const core = await this.openCore()
    const flags = await core.flags.listFlags(this.actor())
    this.log(renderFlags(flags))
    return flags
  }
}
