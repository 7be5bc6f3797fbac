import {render} from 'ink'
import type {Actor} from '../../src/access/principal.js'
import type {Core} from '../../src/core.js'
import {TuiApp} from './app.js'

/** Draws the TUI on the terminal until the operator quits (q or Ctrl-C). */
export async function runTui(options: {core: Core; actor: Actor; color: boolean}): Promise<void> {
  const instance = render(<TuiApp core={options.core} actor={options.actor} color={options.color} />, {exitOnCtrlC: true})
  await instance.waitUntilExit()
}
