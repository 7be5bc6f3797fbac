import {closeSync, fstatSync, openSync, readFileSync} from 'node:fs'
import Module, {createRequire} from 'node:module'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import vm from 'node:vm'
import {codeCacheDirectory, codeCacheFile, MAX_COVERED_RUNS, prepareCodeCacheDirectory, readCodeCache, runKey, sourceStamp, writeCodeCache, type CodeCache} from './code-cache.js'

/** The bundle's content hash, written in by scripts/build-cli.mjs (it names the code cache file). */
declare const CLI_BUNDLE_ID: string

/** What dist/cli/saas-ctl.cjs exports (scripts/build-cli.mjs). */
export interface CliBundle {
  execute(options: {dir: string}): Promise<unknown>
  /** Every command by id (getters: reading the keys loads no command). */
  COMMANDS: Record<string, unknown>
}

/**
 * Where the bundle finds `import()`: a vm.Script has no `import()` of its own unless given a
 * handler (`importModuleDynamically`), and the one that works with cached data on Node 20
 * (vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER) prints an ExperimentalWarning. So the build
 * rewrites each `import(x)` in the bundle to a call of this function, given from this ES module
 * (dist/cli/start.js, the bundle's own directory, so specifiers resolve alike).
 */
const IMPORT_KEY = Symbol.for('saas-ctl.import')

/**
 * Starts the CLI (bin/run.js): loads dist/cli/saas-ctl.cjs with V8's compiled code from the user's
 * cache when there is one (commands/lib/code-cache.ts), then runs oclif from the package root.
 */
export async function startCli(binUrl: string): Promise<void> {
  const bundleFile = fileURLToPath(new URL('saas-ctl.cjs', import.meta.url))
  const bundle = loadCliBundle(bundleFile)
  await bundle.execute({dir: binUrl})
}

/**
 * Compiles and runs the CommonJS bundle as Node's require would, with cached code, and registers it
 * in require's cache: oclif's own `require` of the file (package.json's explicit command target)
 * then finds these exports instead of compiling it again.
 */
function loadCliBundle(bundleFile: string): CliBundle {
  ;(globalThis as Record<symbol, unknown>)[IMPORT_KEY] = (specifier: string) => import(specifier)
  const descriptor = openSync(bundleFile, 'r')
  const stats = fstatSync(descriptor)
  const source = readFileSync(descriptor, 'utf8')
  closeSync(descriptor)
  const stamp = sourceStamp(stats)
  const cacheFile = usableCacheFile(bundleFile, stamp)
  const cached = cacheFile === undefined ? undefined : readCodeCache(cacheFile, stamp)
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {filename: bundleFile, cachedData: cached?.data})
  const require = createRequire(bundleFile)
  const bundleModule = new Module(bundleFile)
  bundleModule.filename = bundleFile
  require.cache[bundleFile] = bundleModule
  const moduleFunction = script.runInThisContext() as (...parameters: unknown[]) => void
  moduleFunction.call(bundleModule.exports, bundleModule.exports, require, bundleModule, bundleFile, path.dirname(bundleFile))
  bundleModule.loaded = true
  const bundle = bundleModule.exports as CliBundle
  const run = runKey(process.argv.slice(2), new Set(Object.keys(bundle.COMMANDS)))
  const covers = cached === undefined || script.cachedDataRejected ? [] : cached.covers
  if (cacheFile !== undefined && run !== undefined && !covers.includes(run) && covers.length < MAX_COVERED_RUNS) {
    // Written when the process ends, so it holds every function this run compiled; only after a
    // run that succeeded, which compiled what the command needs. A cache that cannot be made is
    // only a slower next start: nothing here may change how the run ends.
    process.once('exit', (exitCode) => {
      if (exitCode !== 0) return
      try {
        writeCodeCache(cacheFile, {data: script.createCachedData(), covers: [...covers, run], source: stamp} satisfies CodeCache)
      } catch {
        // As writeCodeCache's own failures: no cache this time.
      }
    })
  }
  return bundle
}

/** This user's cache file for this copy of this build, or undefined when there is no directory the user alone owns. */
function usableCacheFile(bundleFile: string, stamp: string): string | undefined {
  const directory = codeCacheDirectory()
  return directory !== undefined && prepareCodeCacheDirectory(directory) ? codeCacheFile(directory, {id: CLI_BUNDLE_ID, file: bundleFile, stamp}) : undefined
}
