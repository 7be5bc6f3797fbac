import {execFile} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import type {TestDatabase} from '../helpers/test-database.js'

const TRACE = fileURLToPath(new URL('../helpers/module-trace.mjs', import.meta.url))

/**
 * What a start loads must not grow back (start time is measured by
 * test/bench/cli-start-bench.mjs): the daemon and the libraries only some commands use load when
 * those commands run, never with the command list every start imports.
 */
const LOADED_ONLY_WHEN_USED = /\/dist\/daemon\/|\/node_modules\/(express|helmet|pino|prom-client|swagger-ui-dist|jose|nodemailer|otplib|qrcode|argon2|pg|ink|react)\//

describe('CLI start: a command loads only what it uses', () => {
  let database: TestDatabase
  let cli: CliRunner

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase('sqlite'))
    expect((await cli.run(['org', 'create', '--name', 'Started', '--slug', 'started'])).exitCode).toBe(0)
  })
  afterAll(async () => database?.drop())

  async function modulesLoadedBy(args: string[]): Promise<string[]> {
    const traceFile = path.join(mkdtempSync(path.join(tmpdir(), 'saasctl-trace-')), 'modules.txt')
    const env = {...process.env, SAASCTL_DATABASE_URL: database.url, MODULE_TRACE_FILE: traceFile, NODE_ENV: 'production'}
    const {stdout} = await promisify(execFile)(process.execPath, ['--import', TRACE, BIN, ...args], {cwd: cli.cwd, env, timeout: 20_000})
    expect(stdout).not.toBe('')
    return readFileSync(traceFile, 'utf8').trim().split('\n')
  }

  it('org list --json on a current SQLite database loads neither the daemon nor jose, argon2, nodemailer, otplib, qrcode or pg', async () => {
    const loaded = await modulesLoadedBy(['org', 'list', '--json'])
    expect(loaded.some((url) => url.endsWith('/dist/src/tenancy/org-service.js'))).toBe(true)
    expect(loaded.filter((url) => LOADED_ONLY_WHEN_USED.test(url))).toEqual([])
  })

  it('--version loads no core: every command module stays free of it', async () => {
    const loaded = await modulesLoadedBy(['--version'])
    expect(loaded.some((url) => url.endsWith('/dist/commands/org/list.js'))).toBe(true)
    expect(loaded.filter((url) => url.endsWith('/dist/src/core.js') || LOADED_ONLY_WHEN_USED.test(url))).toEqual([])
  })
})
