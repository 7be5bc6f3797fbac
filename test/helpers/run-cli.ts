import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import type {DialectName} from '../../src/db/database-url.js'
import {runInProcess} from './run-cli-in-process.js'
import {createTestDatabase, secretKeyEnvFor, type TestDatabase} from './test-database.js'

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
  /** stdout parsed as JSON, when it is JSON. */
  json: any
}

export interface CliRunner {
  /** Runs `saas-ctl <args>` on this runner's database: a real process, or in-process (see CliRunnerOptions). */
  run(args: string[], options?: {input?: string}): Promise<CliResult>
  /** Starts a long-running command (e.g. `audit tail --follow`): always a real process. */
  start(args: string[]): ChildProcess
  cwd: string
}

export interface CliRunnerOptions {
  /**
   * Run commands inside the test process (@oclif/core's `run`, see run-cli-in-process.ts) instead
   * of starting bin/run.js: the same commands from dist/, the same cwd, environment, stdin and
   * exit codes, without a Node start per call. For tests of what commands do; tests of the binary
   * itself (its exit status, signals, --follow, what it loads) keep the default.
   */
  inProcess?: boolean
}

/** A CLI bound to one database URL, run in its own temporary working directory. */
export function createCliRunner(databaseUrl: string, runnerOptions: CliRunnerOptions = {}): CliRunner {
  const cwd = mkdtempSync(path.join(tmpdir(), 'saasctl-cli-'))
  const overrides = {...secretKeyEnvFor(databaseUrl), SAASCTL_DATABASE_URL: databaseUrl, NODE_ENV: 'production'}
  const env = {...process.env, ...overrides}
  return {
    cwd,
    async run(args, options = {}) {
      if (runnerOptions.inProcess) {
        const output = await runInProcess(args, {cwd, env: overrides, input: options.input, bin: BIN})
        return {...output, json: parseJson(output.stdout)}
      }
      return new Promise((resolve) => {
        const child = execFile(process.execPath, [BIN, ...args], {cwd, env, timeout: 20_000}, (error, stdout, stderr) => {
          const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0
          resolve({exitCode, stdout, stderr, json: parseJson(stdout)})
        })
        child.stdin?.end(options.input ?? '')
      })
    },
    start(args) {
      return spawn(process.execPath, [BIN, ...args], {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
    },
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * A fresh database of the dialect and a CLI runner on it, migrated (SQLite migrates itself on
 * first use; a shared Postgres database only on purpose, with `migrate up`).
 */
export async function createCliDatabase(dialect: DialectName, runnerOptions: CliRunnerOptions = {}): Promise<{database: TestDatabase; cli: CliRunner}> {
  const database = await createTestDatabase(dialect)
  const cli = createCliRunner(database.url, runnerOptions)
  if (dialect === 'postgres') {
    const migrated = await cli.run(['migrate', 'up'])
    if (migrated.exitCode !== 0) throw new Error(`migrate up exited ${migrated.exitCode}: ${migrated.stderr}`)
  }
  return {database, cli}
}
