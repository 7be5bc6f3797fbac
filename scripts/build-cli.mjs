#!/usr/bin/env node
// The first half of `npm run build` (tsc, which type-checks and writes dist/ for the benches,
// follows): bundles the CLI from the TypeScript sources into one CommonJS file that starts from
// V8's code cache, and writes oclif's manifest, so a start reads one JSON file, deserializes
// compiled code instead of parsing ~2 MB of JavaScript, and runs only the command it was given.
// It runs first so that a type error fails the build without leaving the binary on an older bundle.
//
// - dist/cli/saas-ctl.cjs: oclif, every command listed in commands/index.ts, our code and the
//   libraries on every command's path (BUNDLED below). Its COMMANDS export (package.json's oclif
//   `explicit` command target) maps each id to a getter that requires the command's module on
//   first use: esbuild wraps a required ES module and everything it imports in lazy initializers,
//   so a run evaluates its own command's modules only, and what a command imports inside `run()`
//   (the core, the daemon) when it gets there. Every other package stays a require/import of
//   node_modules: the native drivers (better-sqlite3, argon2) and what only some commands load
//   (express, ink, pg, jose, …).
// - CommonJS, because Node 20 can run a CommonJS file from V8's cached code (vm.Script
//   `cachedData`, commands/lib/start-cli.ts) and an ES module only by compiling it. A vm.Script has
//   no `import()` unless given a handler, and Node 20's (USE_MAIN_CONTEXT_DEFAULT_LOADER) prints an
//   ExperimentalWarning, so every `import(x)` in the bundle is rewritten to call the one
//   start-cli.ts hands over (from an ES module in the same directory, so it resolves alike).
//   Ink and string-width are ES modules only (Ink awaits at its top level): the TUI imports them
//   first (commands/lib/esm-only-packages.ts) and the bundle's stand-ins read their exports.
// - dist/cli/start.js: the loader bin/run.js imports (commands/lib/start-cli.ts), with the
//   bundle's content hash written in, which names the code cache file.
// - oclif.manifest.json (package root, where oclif looks) is written from the bundle with
//   @oclif/core's own Plugin, as `oclif manifest` would: each command's flags, args and help. A
//   command id missing from it, or one commands/index.ts does not list, fails the build; so does a
//   listed command that is not the default export of commands/<topic>/<name>.ts.
//
// The bundle is built beside dist/cli and swapped in by renames, so a CLI started during a build
// sees the old bundle or the new one.
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {Plugin} from '@oclif/core'
import {parse} from 'acorn'
import {build} from 'esbuild'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const OUT = path.join(ROOT, 'dist', 'cli')
const BUNDLE_NAME = 'saas-ctl.cjs'
const MANIFEST = path.join(ROOT, 'oclif.manifest.json')

/**
 * Dependencies bundled into the CLI: pure JavaScript, loaded on every start (oclif) or by every
 * command that opens the core. oclif's own dependencies come with it.
 */
const BUNDLED = new Set(['@oclif/core', 'kysely', 'zod', 'uuid'])
/** Never bundled: what oclif loads only to run TypeScript sources in development. */
const NEVER_BUNDLED = ['typescript', 'ts-node', 'tsx']
/** What every `import(x)` in the bundle calls instead (see the header). */
const IMPORT_FUNCTION = '__saasctlImport'

/**
 * zod's error messages in other languages than English (`z.locales.*`, which saas-ctl never
 * uses) left out of the bundle: they are half of zod's code, which every start loads. English
 * (`z.locales.en`, zod's default) stays. Should zod move the file, nothing is left out.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(bundler) {
    bundler.onLoad({filter: /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/}, () => ({
      contents: "export {default as en} from './en.js'",
      loader: 'js',
    }))
  },
}

const pjson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const external = new Set(Object.keys({...pjson.dependencies, ...pjson.devDependencies}).filter((name) => !BUNDLED.has(name)))

/**
 * Our own code's imports of unbundled dependencies stay imports (resolved from node_modules at
 * run time). A bundled package's imports are bundled with it, even of a package saas-ctl also
 * depends on: its version may differ (oclif's string-width 4, CommonJS, beside our string-width 8,
 * an ES module), and a bare import left in the bundle would find ours.
 */
const externalFromOurCode = {
  name: 'external-from-our-code',
  setup(bundler) {
    bundler.onResolve({filter: /^[^./]/}, (args) => {
      const name = packageNameOf(args.path)
      if (NEVER_BUNDLED.includes(name)) return {path: args.path, external: true}
      if (/[\\/]node_modules[\\/]/.test(args.importer)) return undefined
      return external.has(name) ? {path: args.path, external: true} : undefined
    })
  },
}

/**
 * Our static imports of an ES-module-only package (commands/lib/esm-only-packages.ts) become a
 * stand-in module exporting what the package exports, read from the copy the command preloaded.
 * The package's export names are read here, by importing it. `import()` of it stays an import.
 */
const esmOnlyStandIns = {
  name: 'esm-only-stand-ins',
  async setup(bundler) {
    const registry = path.join(ROOT, 'commands', 'lib', 'esm-only-packages.ts')
    const {ESM_ONLY_PACKAGE_NAMES} = await importTypeScript(registry)
    const names = new Set(ESM_ONLY_PACKAGE_NAMES)
    bundler.onResolve({filter: /^[^./]/}, (args) => {
      if (!names.has(args.path) || args.kind !== 'import-statement' || /[\\/]node_modules[\\/]/.test(args.importer)) return undefined
      return {path: args.path, namespace: 'esm-only-stand-in'}
    })
    bundler.onLoad({filter: /.*/, namespace: 'esm-only-stand-in'}, async (args) => {
      const exported = Object.keys(await import(args.path)).filter((name) => name !== 'default')
      return {
        resolveDir: ROOT,
        loader: 'js',
        contents: [
          `import {preloadedPackage} from ${JSON.stringify(registry)}`,
          `const preloaded = preloadedPackage(${JSON.stringify(args.path)})`,
          ...exported.map((name) => `export const ${name} = preloaded[${JSON.stringify(name)}]`),
          'export default preloaded.default',
        ].join('\n'),
      }
    })
  },
}

/** `pkg` of `pkg/sub/path`, `@scope/pkg` of `@scope/pkg/sub/path`. */
function packageNameOf(specifier) {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

const commandIds = await listedCommandIds()
const staging = `${OUT}.building-${process.pid}`
rmSync(staging, {recursive: true, force: true})
mkdirSync(staging, {recursive: true})

const bundled = await build({
  absWorkingDir: ROOT,
  stdin: {contents: cliEntry(commandIds), resolveDir: ROOT, sourcefile: 'cli-entry.js', loader: 'js'},
  bundle: true,
  write: false,
  outfile: path.join(staging, BUNDLE_NAME),
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Our sources are ES modules: the one use of import.meta (a file found relative to the module) gets the bundle's URL.
  define: {'import.meta.url': '__bundleUrl'},
  // A third less to read and decode on every start (~10 ms). Names are kept, so a stack trace
  // (--debug) still names its functions; only its line and column are the bundle's.
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [esmOnlyStandIns, externalFromOurCode, zodEnglishOnly],
  logLevel: 'warning',
})
const bundleSource = bundlePreamble() + rewriteImportCalls(bundled.outputFiles[0].text)
writeFileSync(path.join(staging, BUNDLE_NAME), bundleSource)
const bundleId = createHash('sha256').update(bundleSource).digest('hex').slice(0, 16)

await build({
  absWorkingDir: ROOT,
  entryPoints: ['commands/lib/start-cli.ts'],
  outfile: path.join(staging, 'start.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  define: {CLI_BUNDLE_ID: JSON.stringify(bundleId)},
  logLevel: 'warning',
})

const misplaced = misplacedCommands(path.join(staging, BUNDLE_NAME))
if (misplaced.length > 0) {
  rmSync(staging, {recursive: true, force: true})
  fail(misplaced.map((id) => `command ${id} in commands/index.ts must be the default export of ${sourceFileOf(id)}`).join('\n'))
}

swapIn(staging)
await writeManifest()

/**
 * The bundle's entry: oclif's entry points for bin and tests, and COMMANDS, each id a getter that
 * requires its command module on first use. listedCommands (commands/index.ts, every command
 * loaded) is for the build's check only.
 */
function cliEntry(ids) {
  return [
    "export {execute, run, Errors, flush, handle} from '@oclif/core'",
    'export const COMMANDS = {}',
    ...ids.map((id) => `Object.defineProperty(COMMANDS, ${JSON.stringify(id)}, {enumerable: true, get: () => require(${JSON.stringify(`./${sourceFileOf(id)}`)}).default})`),
    "export const listedCommands = () => require('./commands/index.ts').COMMANDS",
  ].join('\n')
}

/**
 * The lines before the bundle: the URL our sources' import.meta.url stands for, and the function
 * every `import(x)` calls — start-cli.ts's, else (the bundle required as a plain CommonJS file, as
 * tests and this build do) Node's own.
 */
function bundlePreamble() {
  return [
    '// saas-ctl CLI bundle, written by scripts/build-cli.mjs: not to be edited.',
    "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;",
    `const ${IMPORT_FUNCTION} = globalThis[Symbol.for('saas-ctl.import')] ?? ((specifier) => import(specifier));`,
    '',
  ].join('\n')
}

/** Every `import(…)` expression of the code, found by parsing it, made a call of IMPORT_FUNCTION. */
function rewriteImportCalls(code) {
  const starts = []
  const visit = (node) => {
    if (node.type === 'ImportExpression') starts.push(node.start)
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) for (const child of value) child && typeof child.type === 'string' && visit(child)
      else if (value && typeof value.type === 'string') visit(value)
    }
  }
  visit(parse(code, {ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true}))
  let rewritten = code
  for (const start of starts.sort((a, b) => b - a)) {
    if (rewritten.slice(start, start + 6) !== 'import') fail(`no import( at offset ${start} of the bundle`)
    rewritten = `${rewritten.slice(0, start)}${IMPORT_FUNCTION}${rewritten.slice(start + 6)}`
  }
  return rewritten
}

/** Replaces dist/cli by the staged bundle; two builds at once each end with a whole bundle. */
function swapIn(staged) {
  const previous = `${OUT}.previous-${process.pid}`
  for (let attempt = 1; ; attempt++) {
    try {
      if (existsSync(OUT)) renameSync(OUT, previous)
      renameSync(staged, OUT)
      break
    } catch (error) {
      if (attempt === 10 || !['ENOENT', 'ENOTEMPTY', 'EEXIST'].includes(error.code)) throw error
    }
  }
  rmSync(previous, {recursive: true, force: true})
}

/** The ids commands/index.ts lists. */
async function listedCommandIds() {
  const {COMMANDS} = await importTypeScript(path.join(ROOT, 'commands', 'index.ts'))
  return Object.keys(COMMANDS)
}

/** A TypeScript module of ours, bundled alone (packages left outside) and imported. */
async function importTypeScript(file) {
  const bundledFile = path.join(ROOT, 'dist', `.build-cli-${path.basename(file, '.ts')}-${process.pid}.mjs`)
  try {
    await build({absWorkingDir: ROOT, entryPoints: [file], outfile: bundledFile, bundle: true, packages: 'external', format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning'})
    return await import(pathToFileURL(bundledFile).href)
  } finally {
    rmSync(bundledFile, {force: true})
  }
}

/** The listed commands that are not the default export of commands/<topic>/<name>.ts (the getter's module). */
function misplacedCommands(bundleFile) {
  const {COMMANDS, listedCommands} = createRequire(import.meta.url)(bundleFile)
  const listed = listedCommands()
  return commandIds.filter((id) => COMMANDS[id] !== listed[id])
}

function sourceFileOf(id) {
  const base = path.join('commands', ...id.split(':'))
  const found = ['.ts', '.tsx'].map((extension) => base + extension).find((file) => existsSync(path.join(ROOT, file)))
  if (!found) fail(`no source file for command ${id} (${base}.ts)`)
  return found.split(path.sep).join('/')
}

/** oclif's manifest of the bundled commands, by the runtime configuration in package.json. */
async function writeManifest() {
  const plugin = new Plugin({root: ROOT, isRoot: true, type: 'core', pjson, ignoreManifest: true, errorOnManifestCreate: true})
  await plugin.load()
  const manifest = plugin.manifest
  const found = Object.keys(manifest.commands).sort()
  const listed = [...commandIds].sort()
  if (found.join('\n') !== listed.join('\n')) {
    fail(`the manifest's commands (${found.length}) differ from commands/index.ts (${listed.length}); ` +
      `is package.json's oclif.commands the explicit target ./dist/cli/${BUNDLE_NAME}?`)
  }
  const staged = `${MANIFEST}.${process.pid}`
  writeFileSync(staged, `${JSON.stringify(manifest, null, 2)}\n`)
  renameSync(staged, MANIFEST)
}

function fail(message) {
  console.error(`build-cli: ${message}`)
  process.exit(1)
}
