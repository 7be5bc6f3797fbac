#!/usr/bin/env node
// npm run bench: starts `saas-ctl serve` on a temporary SQLite database and loads it with
// autocannon over loopback: (a) GET /health, (b) GET /v1/auth/me, (c) POST /v1/tokens/introspect,
// (d) POST /v1/auth/login — and /health again while (d) runs, to show argon2 does not block the
// event loop. Prints req/s, p50/p99, the ratios of (b) and (c) to (a), and the daemon's RSS.
// Every run is bounded in time and stops by itself.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import {INTROSPECTION_SECRET as introspectionSecret, loadAverageWithWarning, machineLine, PASSWORD as password, readRssMiB as readRss, requestJson, sleep, startDaemon} from './bench-lib.mjs'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const directory = mkdtempSync(path.join(tmpdir(), 'saasctl-bench-'))
const loadAverage = loadAverageWithWarning()

let daemon
try {
  daemon = await startDaemon({databaseUrl: path.join(directory, 'bench.db'), cwd: directory, env: {SAASCTL_MAX_SESSIONS_PER_USER: '1000'}})
  const base = daemon.base
  const email = 'bench@example.com'
  await requestJson(base, '/v1/auth/register', {method: 'POST', body: {email, password, name: 'Bench'}})
  const {access_token: accessToken} = await requestJson(base, '/v1/auth/login', {method: 'POST', body: {email, password}})
  await sleep(1000)
  const idleRss = readRss(daemon.pid)

  const health = await load({url: `${base}/health`})
  const me = await load({url: `${base}/v1/auth/me`, headers: {authorization: `Bearer ${accessToken}`}})
  const introspect = await load({
    url: `${base}/v1/tokens/introspect`,
    method: 'POST',
    headers: {authorization: `Bearer ${introspectionSecret}`, 'content-type': 'application/json'},
    body: JSON.stringify({token: accessToken}),
  })
  const [login, healthDuringLogin] = await Promise.all([
    load({url: `${base}/v1/auth/login`, method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({email, password})}),
    load({url: `${base}/health`, connections: 1, overallRate: 200}),
  ])
  const finalRss = readRss(daemon.pid)

  const rows = [
    ['(a) GET /health', health],
    ['(b) GET /v1/auth/me', me],
    ['(c) POST /v1/tokens/introspect', introspect],
    ['(d) POST /v1/auth/login', login],
    ['    GET /health during (d), 200 req/s', healthDuringLogin],
  ]
  console.log(`\nsaas-ctl bench — ${SECONDS}s per run, ${CONNECTIONS} connections, ${machineLine()}, load average ${loadAverage.toFixed(2)} at start, SQLite\n`)
  console.log('| endpoint | req/s | p50 ms | p99 ms | non-2xx |')
  console.log('|---|---|---|---|---|')
  for (const [name, result] of rows) console.log(`| ${name} | ${Math.round(result.requests.average)} | ${result.latency.p50} | ${result.latency.p99} | ${result.non2xx} |`)
  console.log(`\nratio (b)/(a): ${(me.requests.average / health.requests.average).toFixed(2)}   ratio (c)/(a): ${(introspect.requests.average / health.requests.average).toFixed(2)}   (target ≥ 0.80)`)
  console.log(`/health p99 while (d) runs: ${healthDuringLogin.latency.p99} ms (target < 20 ms)`)
  console.log(`daemon RSS: idle ${idleRss} MiB, after the runs ${finalRss} MiB`)
  const failures = rows.filter(([, result]) => result.non2xx > 0 || result.errors > 0)
  if (failures.length > 0) {
    console.error(`\nrequests failed in: ${failures.map(([name]) => name.trim()).join(', ')}`)
    process.exitCode = 1
  }
} finally {
  await daemon?.stop()
  rmSync(directory, {recursive: true, force: true})
}

function load(options) {
  return autocannon({connections: CONNECTIONS, duration: SECONDS, ...options})
}
