#!/usr/bin/env node
// The rate limiter's cost on an org-scoped read (issue 8): GET /v1/orgs/{org}/members with an
// API key, the daemon's CPU time per request (user + system from /proc, over a fixed number of
// requests after a warm-up) with the limiter drawing from the org's bucket (a limit so large
// nothing is refused) against the same daemon with the org's tier unlimited (no bucket, no
// headers, no usage to share: what remains is reading the org's cached limit). Runs alternate
// on → off → on → off … and the medians are compared, so drift on a shared machine hits both.
// A second figure times the limiter's code in this process (its whole per-request path,
// the cached-limit read included) against the measured CPU of one request.
// Run after `npm run build`; every run is bounded by its request count.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {loadAverageWithWarning, loadWithLatencies, machineLine, PASSWORD, processCpuMs, requestJson, sleep, startDaemon} from './bench-lib.mjs'

const CPU_REQUESTS = Number(process.env.BENCH_CPU_REQUESTS ?? 20_000)
const ROUNDS = Number(process.env.BENCH_RATE_LIMIT_ROUNDS ?? 3)
const CONNECTIONS = 10
const TARGET_OVERHEAD = 0.1
// The largest per-tier limit the setting takes: 10 million requests a minute, never reached here.
const HUGE_RPM = 'free=10000000,basic=10000000,premium=10000000,enterprise=10000000'
const UNLIMITED_RPM = 'free=unlimited,basic=unlimited,premium=unlimited,enterprise=unlimited'

const load = loadAverageWithWarning()
const directory = mkdtempSync(path.join(tmpdir(), 'saasctl-rate-limit-bench-'))
const databaseUrl = path.join(directory, 'bench.db')
const measured = {on: [], off: []}
let slug
let key
try {
  ;({slug, key} = await seed())
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const mode of ['on', 'off']) measured[mode].push(await measure(mode))
  }
} finally {
  rmSync(directory, {recursive: true, force: true})
}
const inProcess = await timeLimiterInProcess()
report()

/** A user with an org (free tier) and an API key of it with the owner role. */
async function seed() {
  const daemon = await startDaemon({databaseUrl, cwd: directory})
  try {
    const registered = await requestJson(daemon.base, '/v1/auth/register', {method: 'POST', body: {email: 'bench@example.com', password: PASSWORD, name: 'Bench', org_name: 'Rate Limit Bench'}})
    const created = await requestJson(daemon.base, `/v1/orgs/${registered.org.slug}/api-keys`, {method: 'POST', token: registered.access_token, body: {name: 'bench-reader', role: 'owner'}})
    return {slug: registered.org.slug, key: created.secret}
  } finally {
    await daemon.stop()
  }
}

/** One daemon, the limiter on (huge limit) or off (unlimited tier): CPU per request. */
async function measure(mode) {
  const daemon = await startDaemon({databaseUrl, cwd: directory, env: {SAASCTL_TIER_RPM: mode === 'on' ? HUGE_RPM : UNLIMITED_RPM}})
  try {
    const url = `${daemon.base}/v1/orgs/${slug}/members`
    const headers = {authorization: `Bearer ${key}`}
    const probe = await fetch(url, {headers})
    const limitHeader = probe.headers.get('ratelimit-limit')
    if (probe.status !== 200 || (mode === 'on') !== (limitHeader !== null)) throw new Error(`limiter ${mode}: ${url} answered ${probe.status}, RateLimit-Limit ${limitHeader}`)
    await loadWithLatencies({url, headers, connections: CONNECTIONS, amount: 2000}) // JIT, statement cache, key cache
    await sleep(200)
    const before = processCpuMs(daemon.pid)
    const run = await loadWithLatencies({url, headers, connections: CONNECTIONS, amount: CPU_REQUESTS})
    const cpuMs = processCpuMs(daemon.pid) - before
    const ok = run.statuses.get(200) ?? 0
    if (ok !== run.count) throw new Error(`limiter ${mode}: ${run.count - ok} of ${run.count} requests were not 200 (${[...run.statuses].map(([status, n]) => `${n}× ${status}`).join(', ')})`)
    return {cpuPerRequest: cpuMs / run.count, requestsPerSecond: run.result.requests.average, p99: run.p99}
  } finally {
    await daemon.stop()
  }
}

/** The limiter's per-request path (cached org limit, bucket, usage count) timed in this process. */
async function timeLimiterInProcess() {
  const {createRateLimiter} = await import('../../dist/src/rate-limit/rate-limiter.js')
  const {systemClock} = await import('../../dist/src/security/clock.js')
  const orgs = Array.from({length: 100}, (_, index) => `org-${index}`)
  const limiter = createRateLimiter({clock: systemClock, orgLimits: {rpmOf: () => 10_000_000, lastKnownRpmOf: () => 10_000_000}, authRpm: 0, publicRpm: 0})
  const calls = 1_000_000
  for (let index = 0; index < 100_000; index += 1) limiter.takeForOrg(orgs[index % orgs.length])
  const started = process.cpuUsage()
  for (let index = 0; index < calls; index += 1) limiter.takeForOrg(orgs[index % orgs.length])
  const used = process.cpuUsage(started)
  return {microsecondsPerCall: (used.user + used.system) / calls}
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

function report() {
  const on = median(measured.on.map((run) => run.cpuPerRequest))
  const off = median(measured.off.map((run) => run.cpuPerRequest))
  const overhead = (on - off) / off
  const codeShare = inProcess.microsecondsPerCall / 1000 / off
  console.log(`\nRate limiter cost — GET /v1/orgs/{org}/members with an API key (SQLite), ${machineLine()}, load average ${load.toFixed(2)} at start`)
  console.log(`| run | limiter | daemon CPU ms/request | req/s | p99 ms |`)
  console.log(`|---|---|---|---|---|`)
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const mode of ['on', 'off']) {
      const run = measured[mode][round]
      console.log(`| ${round + 1} | ${mode} | ${run.cpuPerRequest.toFixed(4)} | ${Math.round(run.requestsPerSecond)} | ${run.p99.toFixed(1)} |`)
    }
  }
  console.log(`\nmedian CPU per request: on ${on.toFixed(4)} ms, off ${off.toFixed(4)} ms → overhead ${(overhead * 100).toFixed(1)} % (target ≤ ${TARGET_OVERHEAD * 100} %: ${overhead <= TARGET_OVERHEAD ? 'met' : 'NOT met'})`)
  console.log(`the limiter's code in-process: ${inProcess.microsecondsPerCall.toFixed(3)} µs per request = ${(codeShare * 100).toFixed(2)} % of one request's CPU`)
  console.log(`(${CPU_REQUESTS} requests per run after 2000 warm-up, ${CONNECTIONS} connections, ${ROUNDS} rounds; daemon CPU = user + system from /proc/<pid>/stat)`)
}
