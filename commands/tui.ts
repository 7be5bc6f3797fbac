import {DomainError} from '../src/errors/domain-error.js'
import {BaseCommand} from './lib/base-command.js'
import {preloadEsmOnlyPackages} from './lib/esm-only-packages.js'

export default class Tui extends BaseCommand<typeof Tui> {
  static override summary = 'Interactive terminal UI: organizations, members, roles, flags and a live audit tail'
  static override description =
    'Keys: 1-5 or Tab switch panes, ? shows the keys of each pane, q quits. Every action calls the same services as the other commands and is audited the same way (as the operator). Needs a terminal (80×24 or larger); NO_COLOR turns colour and styling off.'
  static override enableJsonFlag = false

  async run(): Promise<void> {
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      throw new DomainError('tui.not_a_terminal', 'tui needs a terminal on stdin and stdout; use the other commands (with --json) in scripts')
    }
    const core = await this.openCore()
    // Ink draws nothing until it exits when it thinks it runs in CI (CI or CONTINUOUS_INTEGRATION
    // set, read once when Ink loads). Both ends are terminals here, so someone is watching: an
    // exported CI=true (a dev container, a CI shell) must not leave them a blank screen.
    for (const name of ['CI', 'CONTINUOUS_INTEGRATION']) delete process.env[name]
    // Loaded here, not at the top: Ink and React stay out of every other command's start. Ink is an
    // ES module only, imported before the TUI's modules load (see esm-only-packages.ts).
    await preloadEsmOnlyPackages()
    const {runTui} = await import('./tui/run-tui.js')
    const exitCode = await runTui({core, actor: this.actor(), color: !process.env.NO_COLOR})
    // Ended by SIGTERM/SIGHUP: the screen is restored; exit as a signal's end is conventionally reported.
    if (exitCode) process.exitCode = exitCode
  }
}
