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
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BUNDLE = path.join(ROOT, 'dist', 'cli')

/** The bundle's files (scripts/build-cli.mjs): the sources in each and what each imports. */
const BUNDLE_FILES: Record<string, {sources: string[]; imports: string[]}> = JSON.parse(readFileSync(path.join(BUNDLE, 'modules.json'), 'utf8'))
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

  /** The source files (and packages, as node_modules/<name>) the real binary loaded for these arguments. */
  async function sourcesLoadedBy(args: string[]): Promise<string[]> {
    const traceFile = path.join(mkdtempSync(path.join(tmpdir(), 'saasctl-trace-')), 'modules.txt')
    const env = {...process.env, SAASCTL_DATABASE_URL: database.url, MODULE_TRACE_FILE: traceFile, NODE_ENV: 'production'}
    const {stdout} = await promisify(execFile)(process.execPath, ['--import', TRACE, BIN, ...args], {cwd: cli.cwd, env, timeout: 20_000})
    expect(stdout).not.toBe('')
    const urls = readFileSync(traceFile, 'utf8').trim().split('\n')
    return [...new Set(urls.filter((url) => url.startsWith('file:')).flatMap((url) => sourcesOf(fileURLToPath(url))))]
  }

  it('org list --json on a current SQLite database loads its own command only, and neither the daemon nor jose, argon2, nodemailer, otplib, qrcode, pg, ink or yaml', async () => {
    const loaded = await sourcesLoadedBy(['org', 'list', '--json'])
    expect(loaded).toContain('src/tenancy/org-service.ts')
    expect(loaded.filter(isCommand)).toEqual(['commands/org/list.ts'])
    expect(loaded.filter((source) => LOADED_ONLY_WHEN_USED.test(source))).toEqual([])
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

/** A loaded file as sources: a bundle file's sources, a package's name, or the file relative to the repository. */
function sourcesOf(file: string): string[] {
  if (file.startsWith(BUNDLE + path.sep)) {
    const entry = BUNDLE_FILES[path.relative(BUNDLE, file).split(path.sep).join('/')]
    if (!entry) throw new Error(`${file} is not in dist/cli/modules.json: rebuild`)
    return entry.sources
  }
  const parts = file.split(path.sep)
  const at = parts.lastIndexOf('node_modules')
  if (at >= 0) return [`node_modules/${parts[at + 1]?.startsWith('@') ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1]}`]
  return [path.relative(ROOT, file).split(path.sep).join('/')]
}
