import {BaseCommand} from '../lib/base-command.js'
import {renderTable} from '../lib/render-table.js'

export default class JobsList extends BaseCommand<typeof JobsList> {
  static override summary = "List the daemon's background jobs and their last runs"

  async run() {
    const core = await this.openCore()
    const jobs = await core.jobs.listJobs()
    this.log(renderTable(jobs, [
      {header: 'job', value: (job) => job.name},
      {header: 'last started', value: (job) => job.lastStartedAt},
      {header: 'last finished', value: (job) => job.lastFinishedAt},
      {header: 'by', value: (job) => job.holder},
      {header: 'last result', value: (job) => job.lastResult},
      {header: 'what it does', value: (job) => job.description},
    ]))
    return jobs
  }
}
