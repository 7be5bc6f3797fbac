import {Flags} from '@oclif/core'
import {BaseCommand} from './lib/base-command.js'

/** How often the progress bar is redrawn. */
const PROGRESS_INTERVAL_MILLISECONDS = 100

export default class Apply extends BaseCommand<typeof Apply> {
  static override summary = 'Make organizations, users, members, roles, flags and API keys what a YAML or JSON file says'
  static override description = [
    'Reads the desired state (the format `saas-ctl export` writes; see the README, "Declarative provisioning"), validates it and plans every change before the first write: a file with any problem writes nothing and lists each problem with its path, line and column.',
    'The plan is applied through the same services as the other commands (each change checked and audited): one transaction for the users and flag definitions, then one per organization. A failure rolls back that organization and stops; what committed before stays, and applying again finishes the work.',
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
    const {DomainError, isDomainError} = await import('../src/errors/domain-error.js')
    const file = this.flags.file
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new DomainError('provisioning.file_unreadable', `${file}: cannot read the file (${error.code ?? error.message})`)
    })
    const core = await this.openCore()
    let planned
    try {
      planned = await provisioning.planFile(core, {yaml, text, file, prune: this.flags.prune})
    } catch (error) {
      // Every problem on its own line; the last line (BaseCommand's) says how many.
      const problems = isDomainError(error) && error.code === 'provisioning.invalid' ? ((error.details as {problems?: {text: string}[]}).problems ?? []) : []
      if (problems.length > 1 && !this.jsonEnabled()) for (const problem of problems) process.stderr.write(`${problem.text}\n`)
      throw error
    }
    const {plan} = planned
    // One write: a plan of 20,000 lines costs little this way.
    this.log(provisioning.renderPlan(plan).join('\n'))
    const result = {dryRun: this.flags['dry-run'], prune: this.flags.prune, changes: plan.changes, warnings: plan.warnings, summary: plan.summary}
    if (this.flags['dry-run'] || plan.changes.length === 0) return {...result, applied: false, secrets: []}
    const progress = this.progressBar()
    const outcome = await provisioning.applyPlan(core, plan, {actor: this.actor(), onProgress: progress.update}).finally(progress.finish)
    for (const created of outcome.secrets) this.log(`secret of apikey ${created.org}/${created.name}: ${created.secret}`)
    if (outcome.secrets.length > 0) this.log('Store the secrets now: they are shown only this once.')
    if (outcome.failure) {
      const failure = outcome.failure
      if (!isDomainError(failure) || outcome.secrets.length === 0 || !this.jsonEnabled()) throw failure
      // Under --json the error object is all that is printed: the committed keys' secrets go with it.
      throw new DomainError(failure.code, failure.message, {...(failure.details as object | undefined), applied_orgs: outcome.appliedOrgs, secrets: outcome.secrets})
    }
    this.log(`Applied: ${plan.summary.create} created, ${plan.summary.update} updated, ${plan.summary.delete} deleted.`)
    return {...result, applied: true, secrets: outcome.secrets}
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
