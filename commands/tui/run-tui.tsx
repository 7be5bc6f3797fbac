import {render} from 'ink'
import type {Actor} from '../../src/access/principal.js'
import type {Core} from '../../src/core.js'
import {TuiApp} from './app.js'

/** The terminal's alternate screen (as less, vim and k9s use): the shell's screen comes back on quit. */
const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h'
const LEAVE_ALTERNATE_SCREEN = '\u001B[?1049l'

/** Draws the TUI on the terminal until the operator quits (q or Ctrl-C). */
export async function runTui(options: {core: Core; actor: Actor; color: boolean}): Promise<void> {
  process.stdout.write(ENTER_ALTERNATE_SCREEN)
  try {
    const instance = render(<TuiApp core={options.core} actor={options.actor} color={options.color} />, {exitOnCtrlC: true})
    await instance.waitUntilExit()
  } finally {
    process.stdout.write(LEAVE_ALTERNATE_SCREEN)
  }
}
