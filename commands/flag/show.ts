import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {renderFlag, renderOverrides} from './render.js'

export default class FlagShow extends BaseCommand<typeof FlagShow> {
  static override summary = 'Show one feature flag with its per-organization overrides'
  static override args = {key: Args.string({description: 'Flag key', required: true})}

  async run() {
    const core = await this.openCore()
    const flag = await core.flags.showFlag(this.actor(), {key: this.args.key})
    this.log(renderFlag(flag))
    this.log('')
    this.log('Overrides:')
    this.log(renderOverrides(flag.overrides))
    return flag
  }
}
