import {constants} from 'node:os'
import {render} from 'ink'
import type {Actor} from '../../src/access/principal.js'
import type {Core} from '../../src/core.js'
import {TuiApp} from './app.js'

/** The terminal's alternate screen (as less, vim and k9s use): the shell's screen comes back on quit. */
const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h'
const LEAVE_ALTERNATE_SCREEN = '\u001B[?1049l'
/** Signals that end the TUI like q does (the screen restored), then the process with 128 + the signal's number. */
const ENDING_SIGNALS = ['SIGTERM', 'SIGHUP'] as const

/**
 * Draws the TUI on the terminal until the operator quits (q or Ctrl-C) or a SIGTERM/SIGHUP
 * arrives; the shell's screen is restored either way. Returns the exit code a signal asks for
 * (128 + its number), or 0.
 */
export async function runTui(options: {core: Core; actor: Actor; color: boolean}): Promise<number> {
  process.stdout.write(ENTER_ALTERNATE_SCREEN)
  let exitCode = 0
  const instance = render(<TuiApp core={options.core} actor={options.actor} color={options.color} />, {exitOnCtrlC: true})
  // Our own listeners: Ink's signal-exit would otherwise re-raise the signal and end the process
  // before the screen is restored.
  const listeners = ENDING_SIGNALS.map((signal) => {
    const onSignal = () => {
      exitCode = 128 + constants.signals[signal]
      instance.unmount()
    }
    process.on(signal, onSignal)
    return () => process.off(signal, onSignal)
  })
  try {
    await instance.waitUntilExit()
  } finally {
    process.stdout.write(LEAVE_ALTERNATE_SCREEN)
    for (const remove of listeners) remove()
  }
  return exitCode
}
