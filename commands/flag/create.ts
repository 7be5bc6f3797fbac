import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {ON_OFF, parseOnOff, parseRollout} from './parse.js'
import {renderFlag} from './render.js'

export default class FlagCreate extends BaseCommand<typeof FlagCreate> {
  static override summary = 'Create a feature flag'
  static override description = 'An organization gets the flag from its override if it has one; else, with a rollout percentage, on iff its stable bucket (1–100) is within it; else the default.'
  static override examples = ['<%= config.bin %> flag create new-billing --description "New billing page" --rollout 10']
  static override args = {key: Args.string({description: 'Flag key: 1–100 of a-z 0-9 . _ -', required: true})}
  static override flags = {
    description: Flags.string({description: 'What the flag controls'}),
    default: Flags.option({description: 'Value when neither an override nor a rollout decides (default off)', options: ON_OFF})(),
    rollout: Flags.string({description: 'Percentage of organizations that get the flag, 0–100'}),
    'if-not-exists': Flags.boolean({description: 'Succeed and print the existing flag when the key is taken'}),
  }

  async run() {
    const core = await this.openCore()
    const {flag, created} = await core.flags.createFlag(this.actor(), {
      key: this.args.key,
      description: this.flags.description,
      defaultEnabled: parseOnOff(this.flags.default),
      rolloutPercentage: parseRollout(this.flags.rollout),
      ifNotExists: this.flags['if-not-exists'],
    })
    this.log(created ? `Created flag ${flag.key}` : `Flag ${flag.key} already exists`)
    this.log(renderFlag(flag))
    return {...flag, created}
  }
}
