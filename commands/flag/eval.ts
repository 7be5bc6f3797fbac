import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {describeFlagValue} from './render.js'

export default class FlagEval extends BaseCommand<typeof FlagEval> {
  static override summary = "A flag's value for one organization, and why (override, rollout or default)"
  static override args = {key: Args.string({description: 'Flag key', required: true})}
  static override flags = {
    org: Flags.string({description: 'Organization slug or id', required: true}),
  }

  async run() {
    const core = await this.openCore()
    const value = await core.flags.evaluateFlagForOrg(this.actor(), {org: this.flags.org, key: this.args.key})
    this.log(describeFlagValue(value))
    return value
  }
}
