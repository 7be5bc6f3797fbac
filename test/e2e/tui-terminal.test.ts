import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import {secretKeyEnvFor, type TestDatabase} from '../helpers/test-database.js'

/** SGR sequences (colour, bold, inverse): none may be written under NO_COLOR. Cursor movement may. */
const STYLE_ESCAPE = /\u001B\[[0-9;]*m/
const ANY_ESCAPE = /\u001B(\[[0-9;?]*[A-Za-z]|\][^\u0007]*\u0007|[()][A-Za-z0-9])/g
const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h'
const LEAVE_ALTERNATE_SCREEN = '\u001B[?1049l'

/** The shell's screen is back: the alternate screen was left after it was last entered. */
function leftAlternateScreen(raw: string): boolean {
  const entered = raw.lastIndexOf(ENTER_ALTERNATE_SCREEN)
  return entered >= 0 && raw.indexOf(LEAVE_ALTERNATE_SCREEN, entered) > entered
}

/**
 * The real binary in a pseudo-terminal of 80×24 made by script(1) (util-linux; no native pty
 * module): keys go in through script's stdin, the screen comes out of its stdout. With CI=true,
 * as .ci/run exports it: Ink would otherwise draw nothing until it exits.
 */
function startInTerminal(cli: CliRunner, databaseUrl: string) {
  const command = `stty cols 80 rows 24; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} tui`
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    cwd: cli.cwd,
    env: {...process.env, ...secretKeyEnvFor(databaseUrl), SAASCTL_DATABASE_URL: databaseUrl, NODE_ENV: 'production', NO_COLOR: '1', TERM: 'xterm-256color', CI: 'true'},
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  /** The saas-ctl process inside script(1) (the shell execs it). */
  const tuiPid = () => Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0])
  /** What was written so far, escape sequences removed. */
  const text = () => output.replaceAll(ANY_ESCAPE, '')
  async function waitFor(expected: string, since = 0): Promise<void> {
    const deadline = Date.now() + 20_000
    while (!text().slice(since).includes(expected)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(expected)}; screen so far:\n${text().slice(-2000)}`)
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before ${JSON.stringify(expected)}:\n${text().slice(-2000)}`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
  return {
    raw: () => output,
    text,
    waitFor,
    /** Sends keys, then waits for `expected` in what the TUI draws after them. */
    async press(keys: string, expected: string): Promise<void> {
      const since = text().length
      child.stdin.write(keys)
      await waitFor(expected, since)
    },
    /** Keys, at once: the TUI takes keys from the moment it reads the terminal. */
    send: (keys: string) => void child.stdin.write(keys),
    signal: (name: NodeJS.Signals) => process.kill(tuiPid(), name),
    exited,
    kill: () => child.kill('SIGKILL'),
  }
}

describe('saas-ctl tui, end to end', () => {
  let database: TestDatabase
  let cli: CliRunner
  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase('sqlite'))
    expect((await cli.run(['org', 'create', '--name', 'Acme Corp', '--slug', 'acme'])).exitCode).toBe(0)
  })
  afterAll(async () => database?.drop())

  it('runs in an 80×24 pseudo-terminal without colour: creates an org with keys, and q exits 0', {timeout: 60_000}, async () => {
    const terminal = startInTerminal(cli, database.url)
    try {
      await terminal.waitFor('1 of 1 organization(s)')
      expect(terminal.text()).toMatch(/> acme\s+active\s+free\s+\d+\s+Acme Corp/)
      await terminal.press('n', 'New organization name:')
      await terminal.press('From Terminal', 'From Terminal')
      await terminal.press('\r', 'Slug (empty: from the name):')
      await terminal.press('\r', 'Tier (free, basic, premium, enterprise): free')
      await terminal.press('\r', 'Created organization from-terminal')
      await terminal.press('?', 'Keys of the Orgs pane')
      await terminal.press('\u001B', '? help  q quit')
      terminal.send('q')
      expect(await terminal.exited).toBe(0)
      expect(terminal.raw()).not.toMatch(STYLE_ESCAPE)
      expect(leftAlternateScreen(terminal.raw())).toBe(true)
    } finally {
      terminal.kill()
    }
    const orgs = await cli.run(['org', 'list', '--json'])
    expect(orgs.json.map((org: {slug: string}) => org.slug)).toEqual(['acme', 'from-terminal'])
    const events = await cli.run(['audit', 'tail', '--json', '--action', 'org.created'])
    expect(events.json.map((event: {actor: {type: string}}) => event.actor.type)).toEqual(['cli', 'cli'])
  })

  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s restores the shell screen (leaves the alternate screen) and exits %i', {timeout: 60_000}, async (signal, code) => {
    const terminal = startInTerminal(cli, database.url)
    try {
      await terminal.waitFor('organization(s)')
      terminal.signal(signal)
      expect(await terminal.exited).toBe(code)
      expect(leftAlternateScreen(terminal.raw())).toBe(true)
    } finally {
      terminal.kill()
    }
  })

  it('refuses with one clear line and a usage exit when stdout is not a terminal', async () => {
    const result = await cli.run(['tui'])
    expect(result.exitCode).toBe(64)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^saas-ctl: tui needs a terminal[^\n]* \[tui\.not_a_terminal\]\n$/)
  })
})
