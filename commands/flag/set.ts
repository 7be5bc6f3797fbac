import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {ON_OFF, parseOnOff, parseRollout} from './parse.js'
import {renderFlag} from './render.js'

export default class FlagSet extends BaseCommand<typeof FlagSet> {
  static override summary = "Change a flag's default, rollout percentage or description"
  static override examples = [
    '<%= config.bin %> flag set new-billing --rollout 50',
    '<%= config.bin %> flag set new-billing --rollout none --default on',
  ]
  static override args = {key: Args.string({description: 'Flag key', required: true})}
  static override flags = {
    default: Flags.option({description: 'Value when neither an override nor a rollout decides', options: ON_OFF})(),
    rollout: Flags.string({description: 'Percentage of organizations that get the flag, 0–100; "none" clears it so the default decides'}),
    description: Flags.string({description: 'What the flag controls'}),
  }

  async run() {
    const core = await this.openCore()
    const flag = await core.flags.setFlag(this.actor(), {
      key: this.args.key,
      defaultEnabled: parseOnOff(this.flags.default),
      rolloutPercentage: parseRollout(this.flags.rollout),
      description: this.flags.description,
    })
    this.log(`Updated flag ${flag.key}`)
    this.log(renderFlag(flag))
    return flag
  }
}
