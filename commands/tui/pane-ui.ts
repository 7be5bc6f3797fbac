import type {Actor} from '../../src/access/principal.js'
import type {Core} from '../../src/core.js'
import type {OrganizationSummary} from '../../src/tenancy/org-service.js'
import type {KeyHandler} from './input.js'

/** What the panes that work on the selected organization show without one. */
export const SELECT_AN_ORG = 'Select an organization in the Orgs pane (1) first.'

/**
 * What the app gives a pane: the core and the operator acting, the room it has, and the app's
 * prompt line. Every action runs through `run`, so a failure is shown in place, never thrown.
 */
export interface PaneUi {
  core: Core
  actor: Actor
  width: number
  /** Rows the pane may use. */
  height: number
  color: boolean
  /** The organization under the cursor of the Orgs pane, which the other panes work on. */
  org: OrganizationSummary | null
  /**
   * The pane's keys (called on every render with the current handler). The app's one input
   * handler calls it for keys no prompt, confirmation, help or message takes, while the pane is shown.
   */
  keys(handler: KeyHandler): void
  /** Asks for a line of text; null when cancelled with Esc. Keys go to the prompt from this call on. */
  ask(label: string, initial?: string): Promise<string | null>
  /** Asks y/N before a destructive action; true only on y. Keys go to the question from this call on. */
  confirm(question: string): Promise<boolean>
  /** Shows a line in the status bar. */
  notify(text: string): void
  /** Shows text in full (wrapped, never cut: a link to hand over) until a key is pressed. */
  show(text: string): void
  /** Runs an action: its message on success, the error's message and code in place on failure. */
  run<T>(action: () => Promise<T>, success?: (result: T) => string): Promise<T | undefined>
}
