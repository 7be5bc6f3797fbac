import {Flags} from '@oclif/core'
import {BaseCommand} from './lib/base-command.js'

export default class Export extends BaseCommand<typeof Export> {
  static override summary = 'Write organizations, users, members, roles, flags and API keys in the format `apply -f` reads'
  static override description = [
    'The current state as YAML (or JSON): every flag definition, the live organizations (or those given with --org) and the users who are members of them (every user without --org).',
    'No password hash or API key secret leaves the database: keys are written by name with their role or permissions, and revoked or expired keys are left out. Applying the output on an empty database reproduces the state.',
    'A file given with -o is written to a new temporary file (mode 0600: it lists emails) in the same directory, then renamed over the path.',
  ].join(' ')

  static override examples = ['<%= config.bin %> export > tenants.yaml', '<%= config.bin %> export --org acme --org globex -o acme.yaml']

  static override flags = {
    org: Flags.string({description: 'Only this organization (slug); repeat for several', multiple: true}),
    output: Flags.string({char: 'o', description: 'Write to this file (mode 0600) instead of stdout'}),
    format: Flags.option({description: 'Output format', options: ['yaml', 'json'] as const, default: 'yaml' as const})(),
  }

  async run() {
    const [yaml, {exportState}, privateFile] = await Promise.all([
      import('yaml'),
      import('../src/provisioning/export-state.js'),
      import('../src/backup/private-file.js'),
    ])
    const core = await this.openCore()
    const state = await exportState(core.database.db, {orgs: this.flags.org, now: core.clock.now().toISOString()})
    const text = this.flags.format === 'json' ? `${JSON.stringify(state, null, 2)}\n` : yaml.stringify(state, {lineWidth: 0})
    const file = this.flags.output
    if (!file) {
      if (!this.jsonEnabled()) process.stdout.write(text)
      return state
    }
    // Written through the descriptor opened O_EXCL | O_NOFOLLOW (never reopened by its path), flushed, then renamed over the path.
    const temporary = privateFile.writePrivateTemporaryFile(file, text)
    try {
      privateFile.publishTemporaryFile(temporary, file, true)
    } catch (error) {
      privateFile.unlinkSafely(temporary)
      throw error
    }
    const counts = {orgs: state.orgs?.length ?? 0, users: state.users?.length ?? 0, flags: state.flags?.length ?? 0}
    this.log(`Exported ${counts.orgs} organization(s), ${counts.users} user(s) and ${counts.flags} flag(s) to ${file} (${this.flags.format})`)
    return {file, format: this.flags.format, ...counts}
  }
}
