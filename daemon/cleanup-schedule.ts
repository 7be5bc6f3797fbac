import {hostname} from 'node:os'
import cron from 'node-cron'
import type {Core} from '../src/core.js'
import type {Logger} from './logger.js'
import type {StopHook} from './server.js'

/**
 * Schedules every cleanup job on the configured cron schedule. Several daemons on one
 * database each fire every tick; the job service lets exactly one of them run it.
 */
export function scheduleCleanupJobs({core, logger, schedule}: {core: Core; logger: Logger; schedule: string}): StopHook {
  const holder = `${hostname()}:${process.pid}`
  const tasks = core.jobs.jobNames().map((name) =>
    cron.schedule(schedule, async (context) => {
      try {
        const run = await core.jobs.runScheduled(name, context.date, holder)
        if (run.ran) logger.info({job: name, result: run.result}, 'job finished')
      } catch (error) {
        logger.error({job: name, err: error}, 'job failed')
      }
    }, {name: `saasctl-${name}`}),
  )
  return {
    name: 'cleanup jobs',
    async stop() {
      for (const task of tasks) await task.destroy()
    },
  }
}
