import {createElement} from 'react'
import {render} from 'ink-testing-library'
import type {Actor} from '../../src/access/principal.js'
import type {Core} from '../../src/core.js'
import {TuiApp} from '../../commands/tui/app.js'

export const KEY = {
  up: '\u001B[A',
  down: '\u001B[B',
  enter: '\r',
  escape: '\u001B',
  tab: '\t',
} as const

/** Any ANSI escape sequence (colour, bold, inverse, cursor). */
export const ANSI_ESCAPE = /\u001B\[/

export interface TuiDriver {
  frame(): string
  /** Every frame drawn so far. */
  frames(): string[]
  /** Waits until the newest frame passes `isReady` (polled; fails with the last frame after a timeout). */
  waitFor(isReady: (frame: string) => boolean, what: string): Promise<string>
  /** Writes keys at once (no wait for a draw or effect), then waits for the frame they lead to. */
  press(keys: string, isReady: (frame: string) => boolean, what: string): Promise<string>
  /** Writes each of these as its own read from the terminal, all in the same tick. */
  type(...reads: string[]): void
  /** True once the app has exited (q, Ctrl-C): Ink no longer reads the terminal. */
  hasExited(): boolean
  unmount(): void
}

/** The TUI on a core, in a fixed 80×24 (or given) size, as ink-testing-library renders it. */
export function renderTui(core: Core, actor: Actor, options: {color?: boolean; columns?: number; rows?: number} = {}): TuiDriver {
  const instance = render(createElement(TuiApp, {core, actor, color: options.color ?? false, columns: options.columns ?? 80, rows: options.rows ?? 24}))
  const frame = () => instance.lastFrame() ?? ''
  async function waitFor(isReady: (frame: string) => boolean, what: string): Promise<string> {
    const deadline = Date.now() + 10_000
    for (;;) {
      const current = frame()
      if (isReady(current)) return current
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last frame:\n${current}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  return {
    frame,
    frames: () => instance.frames,
    waitFor,
    async press(keys, isReady, what) {
      instance.stdin.write(keys)
      return waitFor(isReady, what)
    },
    type(...reads) {
      for (const keys of reads) instance.stdin.write(keys)
    },
    hasExited: () => instance.stdin.listenerCount('readable') === 0,
    unmount: () => instance.unmount(),
  }
}

export const has = (text: string) => (frame: string) => frame.includes(text)

/** The TUI with the cursor of the Orgs pane on `slug`, found by a search (`/`). */
export async function renderTuiOnOrg(core: Core, actor: Actor, slug: string): Promise<TuiDriver> {
  const driver = renderTui(core, actor)
  await driver.waitFor(has('organization(s)'), 'the org list')
  await driver.press('/', has('Search'), 'the search prompt')
  await driver.press(slug, has(`Search (slug or name): ${slug}`), 'the typed search')
  await driver.press(KEY.enter, (frame) => frame.includes(`search "${slug}"`) && !frame.includes('Search (slug') && frame.includes(`> ${slug} `), 'the org selected')
  return driver
}
