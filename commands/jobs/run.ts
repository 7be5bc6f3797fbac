import {hostname} from 'node:os'
import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'

export default class JobsRun extends BaseCommand<typeof JobsRun> {
  static override summary = 'Run one background job now, by hand'
  static override args = {name: Args.string({description: 'Job name (see `jobs list`)', required: true})}

  async run() {
    const core = await this.openCore()
    const result = await core.jobs.runNow(this.args.name, `cli@${hostname()}:${process.pid}`)
    this.log(`Ran ${this.args.name}: ${Object.entries(result).map(([key, value]) => `${key}=${value}`).join(', ')}`)
    return {job: this.args.name, result}
  }
}
