import type {Actor} from '../../src/access/principal.js'
import type {Core} from '../../src/core.js'
import type {OrganizationSummary} from '../../src/tenancy/org-service.js'

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
  /** True when the pane may take keys (it is shown and no prompt, confirmation or help is open). */
  isActive: boolean
  /** The organization under the cursor of the Orgs pane, which the other panes work on. */
  org: OrganizationSummary | null
  /** Asks for a line of text; null when cancelled with Esc. */
  ask(label: string, initial?: string): Promise<string | null>
  /** Asks y/N before a destructive action; true only on y. */
  confirm(question: string): Promise<boolean>
  /** Shows a line in the status bar. */
  notify(text: string): void
  /** Runs an action: its message on success, the error's message and code in place on failure. */
  run<T>(action: () => Promise<T>, success?: (result: T) => string): Promise<T | undefined>
}
