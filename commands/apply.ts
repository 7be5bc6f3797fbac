import {Flags} from '@oclif/core'
import {DomainError, isDomainError} from '../src/errors/domain-error.js'
import {BaseCommand, describeFailure} from './lib/base-command.js'

/** How often the progress bar is redrawn. */
const PROGRESS_INTERVAL_MILLISECONDS = 100

export default class Apply extends BaseCommand<typeof Apply> {
  static override summary = 'Make organizations, users, members, roles, flags and API keys what a YAML or JSON file says'
  static override description = [
    'Reads the desired state (the format `saas-ctl export` writes; see the README, "Declarative provisioning"), validates it and plans every change before the first write: a file with any problem writes nothing and lists each problem with its path, line and column.',
    'The plan is read before anything is written, then applied through the same services as the other commands (each change checked and audited): the users and flag definitions in transactions of 200, then one transaction per organization, then the users the file disables. A failure rolls back that transaction and stops; what committed before stays (exit 75, provisioning.partially_applied, naming it), and applying again finishes the work.',
    'With --prune, what the file does not name is deleted within the organizations it names (members, custom roles, flag overrides, API keys); never another organization, never a user. A created API key\'s secret is printed once.',
  ].join(' ')

  static override examples = ['<%= config.bin %> apply -f tenants.yaml --dry-run', '<%= config.bin %> apply -f tenants.yaml', '<%= config.bin %> apply -f tenants.yaml --prune --json']

  static override flags = {
    file: Flags.string({char: 'f', description: 'The desired state: a YAML or JSON file', required: true}),
    'dry-run': Flags.boolean({description: 'Print the plan and change nothing'}),
    prune: Flags.boolean({description: 'Delete members, custom roles, flag overrides and API keys the file does not name, in the organizations it names'}),
  }

  async run() {
    const [{readFile}, yaml, provisioning] = await Promise.all([import('node:fs/promises'), import('yaml'), import('../src/provisioning/provisioning.js')])
    const file = this.flags.file
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new DomainError('provisioning.file_unreadable', `${file}: cannot read the file (${error.code ?? error.message})`)
    })
    let planned
    try {
      // The file's syntax and schema first: a broken file opens (and creates) no database.
      const checked = provisioning.checkFile({yaml, text, file})
      planned = await provisioning.planChecked(await this.openCore(), checked, {prune: this.flags.prune})
    } catch (error) {
      // Every problem on its own line; the last line (BaseCommand's) says how many.
      const problems = isDomainError(error) && error.code === 'provisioning.invalid' ? ((error.details as {problems?: {text: string}[]}).problems ?? []) : []
      if (problems.length > 1 && !this.jsonEnabled()) for (const problem of problems) process.stderr.write(`${problem.text}\n`)
      throw error
    }
    const core = await this.openCore()
    const {plan} = planned
    // One write: a plan of 20,000 lines costs little this way.
    this.log(provisioning.renderPlan(plan).join('\n'))
    const result = {dryRun: this.flags['dry-run'], prune: this.flags.prune, changes: plan.changes, warnings: plan.warnings, summary: plan.summary}
    if (this.flags['dry-run'] || plan.changes.length === 0) return {...result, applied: false, secrets: []}
    const progress = this.progressBar()
    const outcome = await provisioning.applyPlan(core, plan, {actor: this.actor(), onProgress: progress.update}).finally(progress.finish)
    // Whatever stopped the apply, the secrets of the keys that committed are shown (never again).
    for (const created of outcome.secrets) this.log(`secret of apikey ${created.org}/${created.name}: ${created.secret}`)
    if (outcome.secrets.length > 0) this.log('Store the secrets now: they are shown only this once.')
    if (!outcome.failure) {
      this.log(`Applied: ${plan.summary.create} created, ${plan.summary.update} updated, ${plan.summary.delete} deleted.`)
      return {...result, applied: true, secrets: outcome.secrets}
    }
    // Nothing committed: the error as any command's (its own code and exit status).
    if (!provisioning.isPartiallyApplied(outcome)) throw outcome.failure
    const failure = this.describeFailure(outcome.failure, outcome.stoppedAt)
    const committed = {applied_orgs: outcome.appliedOrgs, users_applied: outcome.usersApplied, users_disabled: outcome.usersDisabled}
    const {EXIT_CODES} = await import('./lib/exit-codes.js')
    if (this.jsonEnabled()) {
      // One result document on stdout (what committed, the secrets, the failure), and its own exit status.
      process.exitCode = EXIT_CODES.partial
      return {...result, applied: 'partial', ...committed, secrets: outcome.secrets, failure}
    }
    const orgs = outcome.appliedOrgs
    this.log(`Committed before the failure: ${outcome.usersApplied} user and flag change(s)${outcome.usersDisabled > 0 ? `, ${outcome.usersDisabled} user(s) disabled` : ''}; ${orgs.length} organization(s)${orgs.length > 0 ? `: ${orgs.join(', ')}` : ''}.`)
    throw new DomainError('provisioning.partially_applied', `applied in part, then stopped: ${failure.message} [${failure.code}]; apply the file again to finish`, {...committed, failure})
  }

  /**
   * The failure as the error document shows it, described as every command's (BaseCommand): a
   * domain error's message already says what was rolled back; anything else gets `stoppedAt` in
   * front (its stack with --debug).
   */
  private describeFailure(failure: Error, stoppedAt: string | null): {code: string; message: string; details: unknown} {
    const {code, message, details} = describeFailure(failure)
    if (code === 'internal.error' && this.flags.debug) process.stderr.write(`${failure.stack}\n`)
    return {code, message: isDomainError(failure) || !stoppedAt ? message : `${stoppedAt}: ${message}`, details: details ?? null}
  }

  /** A bar of organizations applied, on stderr when it is a terminal and the output is not --json. */
  private progressBar(): {update: (done: number, total: number) => void; finish: () => void} {
    if (!process.stderr.isTTY || this.jsonEnabled()) return {update: () => {}, finish: () => {}}
    let drawnAt = 0
    let isDrawn = false
    const width = 30
    return {
      update(done, total) {
        if (total < 2 || (done < total && Date.now() - drawnAt < PROGRESS_INTERVAL_MILLISECONDS)) return
        drawnAt = Date.now()
        isDrawn = true
        const filled = Math.round((done / total) * width)
        process.stderr.write(`\r\u001b[2K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} organizations`)
      },
      finish() {
        if (isDrawn) process.stderr.write('\n')
      },
    }
  }
}
