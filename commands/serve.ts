import {Flags} from '@oclif/core'
import type {SettingName} from '../src/config/settings.js'
import {DomainError, isDomainError} from '../src/errors/domain-error.js'
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
    'allow-insecure-files': Flags.boolean({description: 'Serve even if the database or config file can be read by group or others'}),
  }

  protected override settingFlags(): Partial<Record<SettingName, unknown>> {
    return {host: this.flags.host, port: this.flags.port}
  }

  async run(): Promise<void> {
    // The daemon (express and every route) loads only when serving, not on every command's start.
    const [{createCore}, {createLogger}, {checkDaemonConfig, checkPrivateFiles, startDaemon, withListenPort}] = await Promise.all([
      import('../src/core.js'),
      import('../daemon/logger.js'),
      import('../daemon/start-daemon.js'),
    ])
    const {config: loaded, configFile} = this.loadConfiguration()
    checkDaemonConfig(loaded)
    if (!this.flags['allow-insecure-files']) checkPrivateFiles(loaded, configFile, process.cwd())
    const config = await withListenPort(loaded)
    const core = await createCore({config, cwd: process.cwd(), schema: this.flags.migrate ? 'migrate' : 'ensure'}).catch((error: unknown) => {
      if (isDomainError(error) && error.code === 'db.migrations_pending') {
        throw new DomainError('db.migrations_pending', `${error.message}, or start with \`saas-ctl serve --migrate\``, error.details)
      }
      throw error
    })
    const logger = createLogger({level: config.logLevel})
    const running = await startDaemon(core, config, {logger, version: this.config.version, handleSignals: true})
    process.stderr.write(`saas-ctl listening on ${running.url}\n`)
    await running.closed
    logger.flush()
    setTimeout(() => process.exit(), EXIT_GRACE_MS).unref()
  }
}
