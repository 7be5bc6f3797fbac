import {Flags} from '@oclif/core'
import type {SettingName} from '../src/config/settings.js'
import {createCore} from '../src/core.js'
import {DomainError, isDomainError} from '../src/errors/domain-error.js'
import {validate as validateCron} from 'node-cron'
import {SYSTEM_ACTOR} from '../src/access/principal.js'
import {startRevocationFollower} from '../src/identity/revocation-follower.js'
import {scheduleCleanupJobs} from '../daemon/cleanup-schedule.js'
import {createLogger} from '../daemon/logger.js'
import {startServer} from '../daemon/server.js'
import {findFreePort} from '../daemon/find-free-port.js'
import {BaseCommand} from './lib/base-command.js'

/** After shutdown, a handle left open by a library must not keep the process alive. */
const EXIT_GRACE_MS = 2000

export default class Serve extends BaseCommand<typeof Serve> {
  static override summary = 'Run the identity daemon (HTTP) until SIGTERM or SIGINT'
  static override description =
    'On SQLite the database file is created and migrated on first start. On Postgres, pending migrations stop the start unless --migrate is given. Logs are JSON lines on stdout; one line on stderr says where it listens. SIGTERM/SIGINT: in-flight requests finish, then it exits 0.'
  static override enableJsonFlag = false
  static override flags = {
    host: Flags.string({description: 'Address to listen on (setting host, default 127.0.0.1)'}),
    port: Flags.integer({description: 'Port to listen on, 0 for any free port (setting port, default 4000)', min: 0, max: 65_535}),
    migrate: Flags.boolean({description: 'Apply pending migrations before starting (Postgres)'}),
  }

  protected override settingFlags(): Partial<Record<SettingName, unknown>> {
    return {host: this.flags.host, port: this.flags.port}
  }

  async run(): Promise<void> {
    const loaded = this.loadConfiguration().config
    // Tokens name the issuer, so "any free port" is settled before the core is built.
    const config = loaded.port === 0 ? {...loaded, port: await findFreePort(loaded.host)} : loaded
    if (!validateCron(config.cleanupSchedule)) {
      throw new DomainError('config.invalid', `Invalid setting cleanup_schedule: "${config.cleanupSchedule}" is not a cron expression`)
    }
    const core = await createCore({config, cwd: process.cwd(), schema: this.flags.migrate ? 'migrate' : 'ensure'}).catch((error: unknown) => {
      if (isDomainError(error) && error.code === 'db.migrations_pending') {
        throw new DomainError('db.migrations_pending', `${error.message}, or start with \`saas-ctl serve --migrate\``, error.details)
      }
      throw error
    })
    const logger = createLogger({level: config.logLevel})
    let backgroundTasks
    try {
      await core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
      // Warm-up: the first dummy verification computes its hash; no login should pay for it.
      await core.passwords.spendDummyVerification('warm-up')
      const follower = await startRevocationFollower({
        db: core.database.db,
        cache: core.revocations,
        clock: core.clock,
        pollMilliseconds: config.revocationPollMs,
        onError: (error) => logger.warn({err: error}, 'revocation follow failed; retrying'),
      })
      const unsubscribe = core.revocationSignal.subscribe(() => follower.syncNow())
      backgroundTasks = [{name: 'revocation signal', stop: unsubscribe}, {name: 'revocation follower', stop: () => follower.stop()}, scheduleCleanupJobs({core, logger, schedule: config.cleanupSchedule})]
    } catch (error) {
      await core.close()
      throw error
    }
    const running = await startServer({core, config, logger, version: this.config.version, handleSignals: true, backgroundTasks}).catch(async (error: unknown) => {
      // Cron tasks would keep the process alive after a failed start (e.g. the port is taken).
      for (const task of backgroundTasks) await task.stop()
      throw error
    })
    logger.info({url: running.url}, 'listening')
    process.stderr.write(`saas-ctl listening on ${running.url}\n`)
    await running.closed
    logger.flush()
    setTimeout(() => process.exit(), EXIT_GRACE_MS).unref()
  }
}
