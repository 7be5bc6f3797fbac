import {execFile} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import type {TestDatabase} from '../helpers/test-database.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BUILTIN_TRACE = fileURLToPath(new URL('../helpers/builtin-trace.cjs', import.meta.url))
const BUNDLE = path.join(ROOT, 'dist', 'cli', 'saas-ctl.cjs')

/** Every command's source file without its extension (`org:list` → commands/org/list), from oclif's manifest. */
const COMMAND_FILES = new Set(
  Object.keys(JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')).commands).map((id) => `commands/${id.split(':').join('/')}`),
)
const isCommand = (source: string): boolean => COMMAND_FILES.has(source.replace(/\.tsx?$/, ''))

/**
 * What a start loads must not grow back (start time is measured by
 * test/bench/cli-start-bench.mjs): the daemon and the libraries only some commands use load when
 * those commands run, never with `org list`.
 */
const LOADED_ONLY_WHEN_USED =
  /^(daemon\/|commands\/tui\/|node_modules\/(express|helmet|pino|prom-client|swagger-ui-dist|jose|nodemailer|otplib|qrcode|qrcode-terminal|argon2|pg|ink|react|yaml|csv-stringify|node-cron)$)/

describe('CLI start: a command loads only what it uses', () => {
  let database: TestDatabase
  let cli: CliRunner

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase('sqlite'))
    expect((await cli.run(['org', 'create', '--name', 'Started', '--slug', 'started'])).exitCode).toBe(0)
  })
  afterAll(async () => database?.drop())

  /**
   * The modules the real binary ran for these arguments: our source files, and packages as
   * node_modules/<name>. Read from V8's coverage of the run (NODE_V8_COVERAGE): in the bundle each
   * module is a lazy initializer named by its path (scripts/build-cli.mjs), called once if the module
   * loads; a package left in node_modules is a script of its own.
   */
  async function sourcesLoadedBy(args: string[]): Promise<string[]> {
    const coverage = mkdtempSync(path.join(tmpdir(), 'saasctl-coverage-'))
    try {
      const env = {...process.env, SAASCTL_DATABASE_URL: database.url, NODE_V8_COVERAGE: coverage, NODE_ENV: 'production'}
      const {stdout} = await promisify(execFile)(process.execPath, [BIN, ...args], {cwd: cli.cwd, env, timeout: 20_000})
      expect(stdout).not.toBe('')
      const scripts = readdirSync(coverage).flatMap((file) => (JSON.parse(readFileSync(path.join(coverage, file), 'utf8')) as V8Coverage).result)
      const bundle = scripts.find((script) => pathOf(script.url) === BUNDLE)
      expect(bundle, 'the bundle in the coverage').toBeDefined()
      const inBundle = bundle!.functions
        .filter((fn) => MODULE_NAME.test(fn.functionName) && (fn.ranges[0]?.count ?? 0) > 0)
        .map((fn) => packageOrSource(fn.functionName))
      const inNodeModules = scripts.filter((script) => script.url.includes('/node_modules/')).map((script) => packageOrSource(pathOf(script.url)))
      return [...new Set([...inBundle, ...inNodeModules])]
    } finally {
      rmSync(coverage, {recursive: true, force: true})
    }
  }

  it('org list --json on a current SQLite database loads its own command only, and neither the daemon nor jose, argon2, nodemailer, otplib, qrcode, pg, ink or yaml', async () => {
    const loaded = await sourcesLoadedBy(['org', 'list', '--json'])
    expect(loaded).toContain('src/tenancy/org-service.ts')
    expect(loaded.filter(isCommand)).toEqual(['commands/org/list.ts'])
    expect(loaded.filter((source) => LOADED_ONLY_WHEN_USED.test(source))).toEqual([])
  })

  it('org list --json loads none of Node\'s HTTP, TLS or DNS modules (the webhook sender loads them on its first delivery)', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'saasctl-builtins-'))
    try {
      const traceFile = path.join(directory, 'builtins.txt')
      const env = {...process.env, SAASCTL_DATABASE_URL: database.url, BUILTIN_TRACE_FILE: traceFile}
      await promisify(execFile)(process.execPath, ['--require', BUILTIN_TRACE, BIN, 'org', 'list', '--json'], {cwd: cli.cwd, env, timeout: 20_000})
      const builtins = readFileSync(traceFile, 'utf8').trim().split('\n')
      expect(builtins).toContain('fs')
      expect(builtins.filter((name) => ['http', 'https', 'tls', 'dns', 'dns/promises'].includes(name))).toEqual([])
    } finally {
      rmSync(directory, {recursive: true, force: true})
    }
  })

  it('--version reads the oclif manifest and loads no command module and no core', async () => {
    const loaded = await sourcesLoadedBy(['--version'])
    expect(loaded).toContain('node_modules/@oclif/core')
    expect(COMMAND_FILES.size).toBeGreaterThan(50)
    expect(loaded.filter((source) => source.startsWith('commands/') || source.startsWith('src/') || LOADED_ONLY_WHEN_USED.test(source))).toEqual([])
  })
})

// The bundle (scripts/build-cli.mjs) must keep a bundled package's own dependencies: oclif once
// found our string-width 8 (an ES module) in place of its string-width 4, and every help page failed.
describe('CLI start: the bundled oclif renders help', () => {
  it('--help and a topic\'s help exit 0 with their usage', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'saasctl-help-'))
    const run = (args: string[]) => promisify(execFile)(process.execPath, [BIN, ...args], {cwd, timeout: 20_000})
    const root = await run(['--help'])
    expect(root.stdout).toMatch(/USAGE[\s\S]*TOPICS[\s\S]*org\s+Organizations/)
    const topic = await run(['org', '--help'])
    expect(topic.stdout).toMatch(/org list\s+\S/)
    expect(root.stderr + topic.stderr).toBe('')
  })
})

/** V8's coverage file (what NODE_V8_COVERAGE writes), the parts read here. */
interface V8Coverage {
  result: Array<{url: string; functions: Array<{functionName: string; ranges: Array<{count: number}>}>}>
}

/** A module initializer's name in the bundle: the module's path (`src/core.ts`, `node_modules/kysely/dist/esm/index.js`). */
const MODULE_NAME = /^(src|commands|daemon|migrations|node_modules)\//

/** A script's file: V8 names most by file URL, a vm.Script (the bundle) by the path it was given. */
function pathOf(url: string): string {
  return url.startsWith('file:') ? fileURLToPath(url) : url
}

/** A package's files as node_modules/<name>; our source files as they are. */
function packageOrSource(file: string): string {
  const parts = file.split(/[\\/]/)
  const at = parts.lastIndexOf('node_modules')
  if (at < 0) return file
  return `node_modules/${parts[at + 1]?.startsWith('@') ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1]}`
}
