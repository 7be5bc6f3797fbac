import {Console} from 'node:console'
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'
import {PassThrough} from 'node:stream'

/** The package root: `run(argv, REPO_ROOT)` reads package.json's oclif section, as bin/run.js does. */
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

/**
 * The CLI bundle bin/run.js starts (dist/cli/saas-ctl.cjs, `npm run build`), required as a plain
 * CommonJS file: its oclif, commands, configuration, help, topics and error handler are the
 * binary's own (a bundling fault that broke every --help passed in-process with node_modules'
 * oclif). oclif's own require of the file (package.json's command target) finds this copy.
 */
interface BundledOclif {
  run(argv: string[], root: string): Promise<unknown>
  Errors: {handle(error: Error): Promise<void>}
}
const CLI_BUNDLE = fileURLToPath(new URL('../../dist/cli/saas-ctl.cjs', import.meta.url))
let bundledOclif: BundledOclif | undefined
const loadOclif = (): BundledOclif => (bundledOclif ??= createRequire(import.meta.url)(CLI_BUNDLE) as BundledOclif)

/** As the process runner's execFile timeout: a call that hangs fails alone instead of holding every later call. */
const RUN_TIMEOUT_MILLISECONDS = 20_000

export interface InProcessRun {
  /** The working directory the command runs in (process.chdir for the call). */
  cwd: string
  /** Variables set on process.env for the call, over the test process's own. */
  env: Record<string, string>
  /** Standard input: a pipe holding this text, then ended (as the process runner does). */
  input?: string
  /** What the command is called as in process.argv (the binary's path). */
  bin: string
}

export interface InProcessOutput {
  exitCode: number
  stdout: string
  stderr: string
}

/** Calls share the process's globals (cwd, env, stdio, exitCode), so they run one at a time. */
let queue: Promise<unknown> = Promise.resolve()

/**
 * Runs `saas-ctl <args>` inside the test process through oclif's `run(argv, root)` (the bundled oclif bin/run.js starts): the
 * commands load from what package.json's oclif section names (dist/), as the binary's do. For the
 * call the process looks like the binary's would: working directory, environment, argv, a piped
 * stdin, stdout and stderr captured and not terminals, process.exitCode read and reset after.
 * Everything is put back in `finally`. Needs a process that may chdir (vitest's forks pool).
 */
export function runInProcess(args: string[], options: InProcessRun): Promise<InProcessOutput> {
  const result = queue.then(() => runAlone(args, options))
  queue = result.catch(() => {})
  return result
}

async function runAlone(args: string[], options: InProcessRun): Promise<InProcessOutput> {
  const oclif = loadOclif()
  const output = {stdout: '', stderr: ''}
  const restore = swapProcessState(args, options, output)
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`in-process run timed out after ${RUN_TIMEOUT_MILLISECONDS} ms: saas-ctl ${args.join(' ')}`)), RUN_TIMEOUT_MILLISECONDS)
  })
  const running = (async () => {
    try {
      await oclif.run(args, REPO_ROOT)
      return exitCodeOf(process.exitCode)
    } catch (error) {
      return handleLikeTheBinary(oclif, error)
    }
  })()
  try {
    // On a timeout the process is put back (finally) and the error thrown; the hung call is left behind.
    return {exitCode: await Promise.race([running, timedOut]), ...output}
  } finally {
    clearTimeout(timer)
    restore()
  }
}

/** What bin/run.js's `execute` does with an error `run` throws: oclif's handle, minus the process exit. */
async function handleLikeTheBinary(oclif: BundledOclif, error: unknown): Promise<number> {
  // By shape: oclif's exit error (this.exit) carries the status.
  const exitError = error as {code?: unknown; oclif?: {exit?: number}}
  if (exitError.code === 'EEXIT') return exitError.oclif?.exit ?? 0
  let code: number | undefined
  // handle() ends with process.exit(code) (through its Exit.exit): here that records the code.
  const restoreExit = replaceProperty(process, 'exit', {
    value: (exitCode: number | undefined = 0) => {
      code ??= exitCode
    },
    configurable: true,
    writable: true,
  })
  try {
    await oclif.Errors.handle(error as Error)
  } finally {
    restoreExit()
  }
  return code ?? 1
}

function exitCodeOf(value: typeof process.exitCode): number {
  if (value === undefined || value === null) return 0
  return Number(value)
}

/** Makes the process look like the binary's for one call; returns the function that undoes it. */
function swapProcessState(args: string[], options: InProcessRun, output: {stdout: string; stderr: string}): () => void {
  const undo: Array<() => void> = []
  try {
    const cwd = process.cwd()
    try {
      process.chdir(options.cwd)
    } catch (error) {
      throw new Error('In-process CLI runs need a process that may chdir: vitest\'s forks pool, not threads', {cause: error})
    }
    undo.push(() => process.chdir(cwd))

    const env = {...process.env}
    Object.assign(process.env, options.env)
    undo.push(() => {
      for (const name of Object.keys(process.env)) if (!(name in env)) delete process.env[name]
      Object.assign(process.env, env)
    })

    const argv = process.argv
    process.argv = [process.execPath, options.bin, ...args]
    undo.push(() => (process.argv = argv))

    const exitCode = process.exitCode
    process.exitCode = undefined
    undo.push(() => (process.exitCode = exitCode))

    undo.push(captureWrites(process.stdout, (text) => (output.stdout += text)))
    undo.push(captureWrites(process.stderr, (text) => (output.stderr += text)))
    // oclif's this.log / logJson and its error handler print with console.log / console.error;
    // vitest replaces the global console, so a plain one on the (captured) streams goes in its place.
    const console = globalThis.console
    globalThis.console = new Console({stdout: process.stdout, stderr: process.stderr, colorMode: false})
    undo.push(() => (globalThis.console = console))

    const stdin = new PassThrough()
    stdin.end(options.input ?? '')
    undo.push(replaceProperty(process, 'stdin', {value: stdin, configurable: true, enumerable: true, writable: true}))
  } catch (error) {
    runUndo(undo)
    throw error
  }
  return () => runUndo(undo)
}

function runUndo(undo: Array<() => void>): void {
  for (const step of undo.reverse()) step()
}

/** Sends what is written to `stream` to `sink` instead; not a terminal meanwhile (as a pipe). */
function captureWrites(stream: NodeJS.WriteStream, sink: (text: string) => void): () => void {
  const restoreTty = replaceProperty(stream, 'isTTY', {value: false, configurable: true, enumerable: true, writable: true})
  const write = Object.getOwnPropertyDescriptor(stream, 'write')
  stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void) => {
    sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8'))
    const done = typeof encoding === 'function' ? encoding : callback
    if (done) process.nextTick(done)
    return true
  }) as typeof stream.write
  return () => {
    if (write) Object.defineProperty(stream, 'write', write)
    else delete (stream as {write?: unknown}).write
    restoreTty()
  }
}

/** Defines `name` on `target`; the function returned puts back the own property that was there (or none). */
function replaceProperty(target: object, name: string, descriptor: PropertyDescriptor): () => void {
  const previous = Object.getOwnPropertyDescriptor(target, name)
  Object.defineProperty(target, name, descriptor)
  return () => {
    if (previous) Object.defineProperty(target, name, previous)
    else delete (target as Record<string, unknown>)[name]
  }
}
