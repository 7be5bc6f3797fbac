import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {onOff} from './render.js'

export default class FlagToggle extends BaseCommand<typeof FlagToggle> {
  static override summary = "Flip a flag's default between on and off"
  static override args = {key: Args.string({description: 'Flag key', required: true})}

  async run() {
    const core = await this.openCore()
    const flag = await core.flags.toggleFlag(this.actor(), {key: this.args.key})
    const rolloutNote = flag.rolloutPercentage === null ? '' : ` (a ${flag.rolloutPercentage}% rollout still decides for organizations without an override)`
    this.log(`Flag ${flag.key} is now ${onOff(flag.defaultEnabled)} by default${rolloutNote}`)
    return flag
  }
}
