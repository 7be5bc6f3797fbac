import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {describeFlagValue} from './render.js'

export default class FlagOverride extends BaseCommand<typeof FlagOverride> {
  static override summary = 'Force a flag on or off for one organization, or clear that'
  static override examples = [
    '<%= config.bin %> flag override new-billing --org acme on',
    '<%= config.bin %> flag override new-billing --org acme clear',
  ]
  static override args = {
    key: Args.string({description: 'Flag key', required: true}),
    value: Args.string({description: 'on, off, or clear (back to rollout/default)', required: true, options: ['on', 'off', 'clear']}),
  }
  static override flags = {
    org: Flags.string({description: 'Organization slug or id', required: true}),
  }

  async run() {
    const core = await this.openCore()
    const value = await core.flags.setOverride(this.actor(), {key: this.args.key, org: this.flags.org, value: this.args.value})
    this.log(this.args.value === 'clear' ? `Cleared the override of ${value.flag} for ${value.orgSlug}` : `Set the override of ${value.flag} for ${value.orgSlug} to ${this.args.value}`)
    this.log(describeFlagValue(value))
    return value
  }
}
