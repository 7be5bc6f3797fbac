// Helpers shared by the bench scripts: the daemon as a child process (so its CPU time can be
// read from /proc), JSON calls over loopback, autocannon runs that keep every latency (for
// percentiles autocannon does not report, such as p95), and the saas-ctl CLI run in-process.
import {randomBytes} from 'node:crypto'
import {execFileSync, spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {cpus, totalmem} from 'node:os'
import {fileURLToPath} from 'node:url'
import autocannon from 'autocannon'

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
export const PASSWORD = 'correct horse battery staple'
export const INTROSPECTION_SECRET = 'bench-introspection-secret-0123456789'

/**
 * The 1-minute load average, with a warning on stderr when other processes already keep the
 * CPUs busy (the figures would then measure the neighbours as much as saas-ctl).
 */
export function loadAverageWithWarning() {
  const load = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
  if (load > 0.5) process.stderr.write(`warning: load average ${load.toFixed(2)} before the bench: other processes share the CPUs, the figures will be low\n`)
  return load
}

/** Node, cores and memory: the header line of every bench table. */
export function machineLine() {
  return `Node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB`
}

const BENCH_SECRET_KEY = randomBytes(32).toString('base64')

/** Benches measure throughput from one address: no request budget unless a bench sets one (env). */
export const UNLIMITED_REQUEST_RATES_ENV = {
  SAASCTL_TIER_RPM: 'free=unlimited,basic=unlimited,premium=unlimited,enterprise=unlimited',
  SAASCTL_RATE_LIMIT_AUTH_RPM: '0',
  SAASCTL_RATE_LIMIT_PUBLIC_RPM: '0',
}

/**
 * Starts `saas-ctl serve` on a free loopback port and waits until /health answers. The
 * returned `pid` is the daemon itself (bin/run.js runs the command in-process).
 */
export async function startDaemon({databaseUrl, cwd, env = {}, args = []}) {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  // BENCH_CPU_PROF=<dir>: each daemon writes a V8 CPU profile there when it exits.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []
  const child = spawn(process.execPath, [...profile, BIN, 'serve', '--host', '127.0.0.1', '--port', String(port), ...args], {
    cwd,
    // On Postgres secret_key is required (it encrypts the private signing keys): a bench-only one.
    env: {...process.env, SAASCTL_DATABASE_URL: databaseUrl, SAASCTL_INTROSPECTION_SECRET: INTROSPECTION_SECRET, SAASCTL_LOG_LEVEL: 'warn', ...UNLIMITED_REQUEST_RATES_ENV, ...(/^postgres(ql)?:/i.test(databaseUrl) ? {SAASCTL_SECRET_KEY: BENCH_SECRET_KEY} : {}), ...env},
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  try {
    await waitForHealth(base, exited)
  } catch (error) {
    child.kill('SIGTERM')
    throw error
  }
  return {
    base,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

async function waitForHealth(base, exited) {
  let gone = false
  exited.then(() => (gone = true))
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline && !gone) {
    try {
      if ((await fetch(`${base}/health`)).ok) return
    } catch {}
    await sleep(100)
  }
  throw new Error(gone ? 'the daemon exited before it became healthy' : 'the daemon did not become healthy within 30 s')
}

/** A JSON request; throws with the status and error code when the answer is not 2xx. */
export async function requestJson(base, route, {method = 'GET', body, token} = {}) {
  const headers = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token) headers.authorization = `Bearer ${token}`
  const response = await fetch(`${base}${route}`, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)})
  const json = await response.json()
  if (!response.ok) throw new Error(`${method} ${route} answered ${response.status}: ${json?.error?.code ?? JSON.stringify(json)}`)
  return json
}

/**
 * An autocannon run that also records each response's latency, so any percentile can be read
 * (autocannon reports p50, p90, p97.5 and p99, not p95).
 */
export async function loadWithLatencies(options) {
  const latencies = []
  const statuses = new Map()
  const instance = autocannon(options)
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    latencies.push(responseTime)
    statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1)
  })
  const result = await instance
  latencies.sort((a, b) => a - b)
  const at = (fraction) => (latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.ceil(fraction * latencies.length) - 1)])
  return {result, statuses, count: latencies.length, p50: at(0.5), p95: at(0.95), p99: at(0.99)}
}

let clockTicks
/** User + system CPU time of a process in milliseconds, from /proc/<pid>/stat. */
export function processCpuMs(pid) {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim()) || 100
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const [utime, stime] = [Number(fields[11]), Number(fields[12])]
  return ((utime + stime) * 1000) / clockTicks
}

export function readRssMiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'))
  return Math.round(Number(line?.replace(/\D+/g, '') ?? 0) / 1024)
}

/**
 * Runs saas-ctl commands inside this process (oclif, no Node start-up per command) with
 * `--json`, on the given database; returns the parsed output. Throws when the command fails.
 */
export async function saasCtl(args, {databaseUrl}) {
  const {run} = await import('@oclif/core')
  const previousUrl = process.env.SAASCTL_DATABASE_URL
  const previousExitCode = process.exitCode
  const write = process.stdout.write
  let output = ''
  process.env.SAASCTL_DATABASE_URL = databaseUrl
  process.exitCode = undefined
  process.stdout.write = (chunk, ...rest) => {
    output += chunk
    const callback = rest.find((entry) => typeof entry === 'function')
    callback?.()
    return true
  }
  let failed
  try {
    await run([...args, '--json'], new URL('../../bin/run.js', import.meta.url).href)
    failed = process.exitCode !== undefined && process.exitCode !== 0
  } finally {
    process.stdout.write = write
    if (previousUrl === undefined) delete process.env.SAASCTL_DATABASE_URL
    else process.env.SAASCTL_DATABASE_URL = previousUrl
    process.exitCode = previousExitCode
  }
  if (failed) throw new Error(`saas-ctl ${args.join(' ')} failed: ${output.trim()}`)
  return JSON.parse(output)
}

/** saas-ctl in a child process, for what needs standard input (passwords). */
export function saasCtlWithInput(args, {databaseUrl, input}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--json'], {env: {...process.env, SAASCTL_DATABASE_URL: databaseUrl}, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`saas-ctl ${args.join(' ')} exited ${code}: ${(stdout + stderr).trim()}`))))
    child.stdin.end(input)
  })
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

export function sleep(milliseconds) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}
