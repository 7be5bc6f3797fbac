import {userInfo} from 'node:os'
import {Command, Errors, Flags, type Interfaces} from '@oclif/core'
import {operatorActor, type Actor} from '../../src/access/principal.js'
import {loadConfig, type LoadedConfig} from '../../src/config/load-config.js'
import type {SettingName} from '../../src/config/settings.js'
import type {Core} from '../../src/core.js'
import type {OpenedDatabase} from '../../src/db/open-database.js'
import {translateDatabaseError} from '../../src/db/database-errors.js'
import {DomainError, isDomainError} from '../../src/errors/domain-error.js'
import {toJsonShape} from '../../src/shared/json-shape.js'
import {EXIT_CODES} from './exit-codes.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * What every saas-ctl command shares: the global flags, configuration, opening the core,
 * the acting operator, `--json` output in snake_case, and one mapping of errors to a single
 * stderr line and an exit code.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    'database-url': Flags.string({description: 'Database: postgres://… or a SQLite file path / sqlite: URL', helpGroup: 'GLOBAL'}),
    config: Flags.string({description: 'Config file (default: ./saas-ctl.config.json when present)', helpGroup: 'GLOBAL'}),
    debug: Flags.boolean({description: 'Show stack traces of internal errors', helpGroup: 'GLOBAL'}),
  }

  protected flags!: CommandFlags<T>
  protected args!: CommandArgs<T>
  #core: Core | undefined
  #database: OpenedDatabase | undefined

  override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as CommandFlags<T>
    this.args = args as CommandArgs<T>
  }

  /** The effective configuration: flags > SAASCTL_* environment > config file > defaults. */
  protected loadConfiguration(): LoadedConfig {
    return loadConfig({
      flags: {databaseUrl: this.flags['database-url'], ...this.settingFlags()},
      env: process.env,
      cwd: process.cwd(),
      configPath: this.flags.config,
    })
  }

  /** Settings a command takes as flags of its own (e.g. `serve --port`); undefined means not given. */
  protected settingFlags(): Partial<Record<SettingName, unknown>> {
    return {}
  }

  /** The core on the configured database, with its schema current; closed when the command ends. */
  protected async openCore(): Promise<Core> {
    // Loaded here, not at the top: the core (Kysely, every service) is a chunk of its own in the
    // bundle, which a command's `--help` and a command that fails its flags never load.
    const {createCore} = await import('../../src/core.js')
    this.#core ??= await createCore({config: this.loadConfiguration().config, cwd: process.cwd()})
    return this.#core
  }

  /** The configured database as it is, schema untouched: for the `migrate` commands. */
  protected async openDatabaseAsIs(): Promise<OpenedDatabase> {
    const {openConfiguredDatabase} = await import('../../src/core.js')
    this.#database ??= await openConfiguredDatabase(this.loadConfiguration().config, process.cwd())
    return this.#database
  }

  /** The operator running this command, as the audit log records them. */
  protected actor(): Actor {
    return operatorActor(safeUserName())
  }

  protected override toSuccessJson(result: unknown): unknown {
    return toJsonShape(result)
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<void> {
    const failure = describeFailure(error)
    process.exitCode = failure.exitCode
    if (this.jsonEnabled()) this.logJson({error: toJsonShape({code: failure.code, message: failure.message, details: failure.details ?? null})})
    process.stderr.write(`saas-ctl: ${failure.message} [${failure.code}]\n`)
    if (this.flags?.debug || process.argv.includes('--debug')) process.stderr.write(`${error.stack}\n`)
  }

  protected override async finally(error: Error | undefined): Promise<void> {
    await this.#core?.close()
    await this.#database?.close()
    await super.finally(error)
  }
}

/** An error as the CLI reports it: its code, one-line message, details and exit status (internal errors say nothing more). */
export function describeFailure(error: Error): {code: string; message: string; details?: unknown; exitCode: number} {
  const databaseError = translateDatabaseError(error)
  if (databaseError) return describeFailure(databaseError)
  if (isDomainError(error)) return {code: error.code, message: error.message, details: error.details, exitCode: EXIT_CODES[error.category]}
  if (error instanceof Errors.CLIError) {
    // oclif's own parse errors (unknown flag, missing argument, bad option): usage errors.
    const message = error.message
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('See more help'))
      .join(' ')
    return {code: 'usage', message: `${message} (see --help)`, exitCode: EXIT_CODES.usage}
  }
  const internal = new DomainError('internal.error', 'Internal error; rerun with --debug for details')
  return {code: internal.code, message: internal.message, exitCode: EXIT_CODES.internal}
}

function safeUserName(): string {
  try {
    return userInfo().username
  } catch {
    return process.env.USER ?? 'unknown'
  }
}
