import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import type {DialectName} from '../../src/db/database-url.js'
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
  /** Runs `saas-ctl <args>` as a real process on this runner's database. */
  run(args: string[], options?: {input?: string}): Promise<CliResult>
  /** Starts a long-running command (e.g. `audit tail --follow`). */
  start(args: string[]): ChildProcess
  cwd: string
}

/** A CLI bound to one database URL, run in its own temporary working directory. */
export function createCliRunner(databaseUrl: string): CliRunner {
  const cwd = mkdtempSync(path.join(tmpdir(), 'saasctl-cli-'))
  const env = {...process.env, ...secretKeyEnvFor(databaseUrl), SAASCTL_DATABASE_URL: databaseUrl, NODE_ENV: 'production'}
  return {
    cwd,
    run(args, options = {}) {
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
export async function createCliDatabase(dialect: DialectName): Promise<{database: TestDatabase; cli: CliRunner}> {
  const database = await createTestDatabase(dialect)
  const cli = createCliRunner(database.url)
  if (dialect === 'postgres') {
    const migrated = await cli.run(['migrate', 'up'])
    if (migrated.exitCode !== 0) throw new Error(`migrate up exited ${migrated.exitCode}: ${migrated.stderr}`)
  }
  return {database, cli}
}
