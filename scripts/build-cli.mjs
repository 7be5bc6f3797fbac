#!/usr/bin/env node
// The first half of `npm run build` (tsc, which type-checks and writes dist/ for the benches,
// follows): bundles the CLI from the TypeScript sources for a fast start and writes oclif's
// manifest, so a start reads one JSON file and imports only the command it runs. It runs first so
// that a type error fails the build without leaving the binary on an older bundle.
//
// - Every command listed in commands/index.ts (the explicit command list) becomes an entry point
//   dist/cli/commands/<topic>/<name>.js, its path being its id (`org:list` → org/list.js); the
//   build fails if a listed command is not the default export of the file at that path. Code
//   shared between commands goes into chunks, and what a command imports lazily (the core, the
//   daemon) stays a lazy chunk.
// - Bundled: our code (commands, daemon, src, migrations), oclif itself and the libraries on
//   every command's path (BUNDLED below): otherwise Node resolves, reads and compiles several
//   hundred files of them on each start (Node 20 has no compile cache). dist/cli/oclif.js is
//   @oclif/core as bundled, the copy bin/run.js starts and the commands extend. Every other
//   package stays an ordinary import from node_modules: the native drivers (better-sqlite3,
//   argon2) and what only some commands load (express, ink, pg, jose, …).
// - oclif.manifest.json (package root, where oclif looks) is written from the bundle with
//   @oclif/core's own Plugin, as `oclif manifest` would: each command's flags, args and help
//   plus the file to import. A command id missing from it, or one commands/index.ts does not
//   list, fails the build.
// - dist/cli/modules.json names the source files in each bundle file and what it imports (read by
//   test/cli/cli-start.test.ts to tell what a start loads).
//
// The bundle is built beside dist/cli and swapped in by renames, so a CLI started during a build
// sees the old bundle or the new one.
import {existsSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {isBuiltin} from 'node:module'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {Plugin} from '@oclif/core'
import {build} from 'esbuild'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const OUT = path.join(ROOT, 'dist', 'cli')
const MANIFEST = path.join(ROOT, 'oclif.manifest.json')

/**
 * Dependencies bundled into the CLI: pure JavaScript, loaded on every start (oclif) or by every
 * command that opens the core. oclif's own dependencies come with it.
 */
const BUNDLED = new Set(['@oclif/core', 'kysely', 'zod', 'uuid'])
/** Never bundled: what oclif loads only to run TypeScript sources in development. */
const NEVER_BUNDLED = ['typescript', 'ts-node', 'tsx']

/**
 * zod's error messages in other languages than English (`z.locales.*`, which saas-ctl never
 * uses) left out of the bundle: they are half of zod's code, which every start parses. English
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
const commandIds = await listedCommandIds()
const entryPoints = [{in: '@oclif/core', out: 'oclif'}, {in: 'commands/index.ts', out: 'command-list'}, ...commandIds.map(sourceFileOf)]

const staging = `${OUT}.building-${process.pid}`
rmSync(staging, {recursive: true, force: true})
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

/** `pkg` of `pkg/sub/path`, `@scope/pkg` of `@scope/pkg/sub/path`. */
function packageNameOf(specifier) {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}
const result = await build({
  absWorkingDir: ROOT,
  entryPoints,
  outdir: staging,
  outbase: '.',
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // oclif is CommonJS: bundled into ES modules, its require() of Node's modules needs a require.
  banner: {js: "import {createRequire as createRequireForBundle} from 'node:module'; const require = createRequireForBundle(import.meta.url);"},
  plugins: [externalFromOurCode, zodEnglishOnly],
  metafile: true,
  logLevel: 'warning',
})
writeFileSync(path.join(staging, 'modules.json'), `${JSON.stringify(describeOutputs(result.metafile), null, 1)}\n`)
const misplaced = await misplacedCommands(staging)
if (misplaced.length > 0) {
  rmSync(staging, {recursive: true, force: true})
  fail(misplaced.map((id) => `command ${id} in commands/index.ts must be the default export of ${sourceFileOf(id)}`).join('\n'))
}

swapIn(staging)
await writeManifest()

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

/** The ids commands/index.ts lists: the file bundled alone (packages left outside) and imported. */
async function listedCommandIds() {
  const listing = path.join(ROOT, 'dist', `.command-list-${process.pid}.mjs`)
  try {
    await build({absWorkingDir: ROOT, entryPoints: ['commands/index.ts'], outfile: listing, bundle: true, packages: 'external', format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning'})
    const {COMMANDS} = await import(pathToFileURL(listing).href)
    return Object.keys(COMMANDS)
  } finally {
    rmSync(listing, {force: true})
  }
}

/** The listed commands that are not the default export of their entry point (`org:list` → commands/org/list.js). */
async function misplacedCommands(bundle) {
  const {COMMANDS} = await import(pathToFileURL(path.join(bundle, 'command-list.js')).href)
  const misplaced = []
  for (const id of commandIds) {
    const {default: command} = await import(pathToFileURL(path.join(bundle, 'commands', ...id.split(':')) + '.js').href)
    if (command !== COMMANDS[id]) misplaced.push(id)
  }
  return misplaced
}

function sourceFileOf(id) {
  const base = path.join('commands', ...id.split(':'))
  const found = ['.ts', '.tsx'].map((extension) => base + extension).find((file) => existsSync(path.join(ROOT, file)))
  if (!found) fail(`no source file for command ${id} (${base}.ts)`)
  return found
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
      `is package.json's oclif.commands target ./dist/cli/commands?`)
  }
  for (const [id, command] of Object.entries(manifest.commands)) {
    if (!command.isESM || !command.relativePath) fail(`manifest entry ${id} lacks the file to import`)
  }
  const staged = `${MANIFEST}.${process.pid}`
  writeFileSync(staged, `${JSON.stringify(manifest, null, 2)}\n`)
  renameSync(staged, MANIFEST)
}

/**
 * Each bundle file: the source files in it (a bundled package as `node_modules/<name>`) and what
 * it imports statically (other bundle files; packages left outside as `node_modules/<name>`).
 */
function describeOutputs(metafile) {
  const relative = (output) => path.relative(staging, path.join(ROOT, output)).split(path.sep).join('/')
  const packageOrFile = (input) => (input.includes('node_modules/') ? `node_modules/${packageOf(input)}` : input)
  return Object.fromEntries(
    Object.entries(metafile.outputs)
      .filter(([output]) => output.endsWith('.js'))
      .map(([output, {inputs, imports}]) => [
        relative(output),
        {
          sources: [...new Set(Object.keys(inputs).map(packageOrFile))],
          imports: imports
            .filter((entry) => entry.kind === 'import-statement' && !isBuiltin(entry.path))
            .map((entry) => (entry.external ? `node_modules/${packageOf(`node_modules/${entry.path}`)}` : relative(entry.path))),
        },
      ]),
  )
}

function packageOf(input) {
  const parts = input.split('/')
  const at = parts.lastIndexOf('node_modules')
  return parts[at + 1].startsWith('@') ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1]
}

function fail(message) {
  console.error(`build-cli: ${message}`)
  process.exit(1)
}
