import {randomUUID} from 'node:crypto'
import {validate as isCronExpression} from 'node-cron'
import {SYSTEM_ACTOR} from '../src/access/principal.js'
import type {Config} from '../src/config/settings.js'
import type {Core} from '../src/core.js'
import {parseDatabaseUrl} from '../src/db/database-url.js'
import {DomainError} from '../src/errors/domain-error.js'
import {startRevocationFollower} from '../src/identity/revocation-follower.js'
import {startRateLimitSync} from '../src/rate-limit/rate-limit-sync.js'
import {findExposedFiles, privateFilesOf} from '../src/security/private-files.js'
import {scheduleCleanupJobs} from './cleanup-schedule.js'
import {findFreePort} from './find-free-port.js'
import {startMailWorker} from './mail-worker.js'
import {startWebhookWorker} from './webhook-worker.js'
import {createLogger, type Logger} from './logger.js'
import type {AnyRoute} from './openapi/route.js'
import {startServer, type RunningServer, type StopHook} from './server.js'

export interface StartDaemonOptions {
  /** Default: JSON lines on stdout at the configured log level. */
  logger?: Logger
  /** The version shown in /openapi.json. */
  version?: string
  /** Routes besides the built-in ones (tests add their own here). */
  routes?: AnyRoute[]
  /** Check every JSON response against its declared schema (tests). */
  checkResponses?: boolean
  /**
   * Run the cleanup jobs on config.cleanupSchedule (default true). In-process tests turn them
   * off: a wall-clock tick must not purge rows from under a test that moves its own clock.
   */
  cleanupJobs?: boolean
  /**
   * Deliver the mail outbox every config.mailPollMs (default true). In-process tests turn it off
   * to read what a change enqueued, or drive core.mailDelivery.deliverDue() themselves.
   */
  mailDelivery?: boolean
  /**
   * Deliver webhooks every config.webhookPollMs (default true). In-process tests turn it off to
   * read what an event enqueued, or drive core.webhookDelivery.deliverDue() themselves.
   */
  webhookDelivery?: boolean
  /** Stopped at shutdown after the daemon's own tasks (jobs, revocation follower). */
  backgroundTasks?: StopHook[]
  shutdownTimeoutMs?: number
  /** Shut down on SIGTERM and SIGINT: the serve command sets it, tests call close(). */
  handleSignals?: boolean
}

/**
 * Settings the daemon needs beyond what the config schema checks, refused before anything
 * opens: `serve` calls it before building the core, startDaemon again for other callers.
 */
export function checkDaemonConfig(config: Config): void {
  checkCleanupSchedule(config)
  // Every daemon on one Postgres database must share the key that encrypts the private signing keys.
  if (parseDatabaseUrl(config.databaseUrl, process.cwd()).dialect === 'postgres' && config.secretKey === undefined) {
    throw new DomainError(
      'secret_key.required',
      'On Postgres the setting secret_key (SAASCTL_SECRET_KEY) is required: 32 bytes as 64 hex digits or base64, the same on every host (e.g. `openssl rand -base64 32`)',
    )
  }
}

/** Raises `config.invalid` when cleanup_schedule is not a cron expression (`doctor` checks it too). */
export function checkCleanupSchedule(config: Config): void {
  if (!isCronExpression(config.cleanupSchedule)) {
    throw new DomainError('config.invalid', `Invalid setting cleanup_schedule: "${config.cleanupSchedule}" is not a cron expression`)
  }
}

/**
 * Refuses (`daemon.insecure_file`) to serve from a SQLite database (or its -wal, -shm or secret
 * key file) or a config file that group or others may read or write: they hold password
 * hashes, session state and secrets. Files that do not exist yet are created private.
 * `serve --allow-insecure-files` skips this check.
 */
export function checkPrivateFiles(config: Config, configFile: string | null, cwd: string): void {
  const [exposed] = findExposedFiles(privateFilesOf(config, configFile, cwd))
  if (exposed) {
    throw new DomainError(
      'daemon.insecure_file',
      `${exposed.file} can be read or written by group or others (mode ${exposed.mode}): run \`chmod 600 ${exposed.file}\`, or start with --allow-insecure-files`,
      {file: exposed.file, mode: exposed.mode},
    )
  }
}

/**
 * Port 0 means any free port, settled before the core is built: tokens name the issuer,
 * which defaults to the daemon's own address.
 */
export async function withListenPort(config: Config): Promise<Config> {
  return config.port === 0 ? {...config, port: await findFreePort(config.host)} : config
}

/**
 * The daemon's whole lifecycle over a core it owns from here on: warm-up (signing key,
 * password hashing), the revocation follower, the cleanup jobs, listening, and shutdown in
 * order — in-flight requests, then jobs, then the follower, then the database. On any
 * failure to start, whatever started is stopped and the core is closed.
 */
export async function startDaemon(core: Core, config: Config, options: StartDaemonOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({level: config.logLevel})
  let ownTasks: StopHook[]
  try {
    checkDaemonConfig(config)
    ownTasks = await startBackgroundTasks(core, config, logger, options.cleanupJobs ?? true)
    // First to stop: a send in flight finishes its bookkeeping before the database closes.
    if (options.mailDelivery ?? true) ownTasks.unshift(startMailWorker({core, logger, pollMilliseconds: config.mailPollMs}))
    if (options.webhookDelivery ?? true) ownTasks.unshift(startWebhookWorker({core, logger, pollMilliseconds: config.webhookPollMs}))
  } catch (error) {
    await core.close()
    throw error
  }
  const running = await startServer({
    core,
    config,
    logger,
    routes: options.routes,
    version: options.version,
    checkResponses: options.checkResponses,
    backgroundTasks: [...ownTasks, ...(options.backgroundTasks ?? [])],
    shutdownTimeoutMs: options.shutdownTimeoutMs,
    handleSignals: options.handleSignals,
  }).catch(async (error: unknown) => {
    // startServer closed the core; cron tasks would keep the process alive (e.g. the port is taken).
    await stopAll(ownTasks, logger)
    throw error
  })
  // Organizations' request use, shared with the other daemons on the database every rate_limit_sync_ms.
  running.addShutdownHook(
    startRateLimitSync({
      db: core.database.db,
      limiter: running.app.rateLimiter,
      clock: core.clock,
      daemonId: randomUUID(),
      intervalMs: config.rateLimitSyncMs,
      onError: (error) => logger.warn({err: error}, 'rate limit sync failed; retrying'),
    }),
  )
  logger.info({url: running.url}, 'listening')
  return running
}

async function startBackgroundTasks(core: Core, config: Config, logger: Logger, cleanupJobs: boolean): Promise<StopHook[]> {
  await core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
  // Warm-up: neither the first token nor the first failed login pays for loading keys or hashing.
  await core.keyProvider.reload()
  await core.passwords.spendDummyVerification('warm-up')
  const follower = await startRevocationFollower({
    db: core.database.db,
    cache: core.revocations,
    clock: core.clock,
    pollMilliseconds: config.revocationPollMs,
    onError: (error) => logger.warn({err: error}, 'revocation follow failed; retrying'),
  })
  const unsubscribe = core.revocationSignal.subscribe(() => follower.syncNow())
  const followerTasks: StopHook[] = [
    {name: 'revocation signal', stop: unsubscribe},
    {name: 'revocation follower', stop: () => follower.stop()},
  ]
  // No job starts once shutdown began; then the follower stops reading before the database closes.
  return cleanupJobs ? [scheduleCleanupJobs({core, logger, schedule: config.cleanupSchedule}), ...followerTasks] : followerTasks
}

async function stopAll(tasks: StopHook[], logger: Logger): Promise<void> {
  for (const task of tasks) {
    try {
      await task.stop()
    } catch (error) {
      logger.error({task: task.name ?? 'unnamed', err: error}, 'background task failed to stop')
    }
  }
}
