#!/usr/bin/env node
// npm run bench: starts `saas-ctl serve` on a temporary SQLite database and loads it with
// autocannon over loopback: (a) GET /health, (b) GET /v1/auth/me, (c) POST /v1/tokens/introspect,
// (d) POST /v1/auth/login — and /health again while (d) runs, to show argon2 does not block the
// event loop. Prints req/s, p50/p99, the ratios of (b) and (c) to (a), and the daemon's RSS.
// Every run is bounded in time and stops by itself.
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {cpus, tmpdir, totalmem} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import autocannon from 'autocannon'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const bin = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
const directory = mkdtempSync(path.join(tmpdir(), 'saasctl-bench-'))
const introspectionSecret = 'bench-introspection-secret-0123456789'

const port = await freePort()
const base = `http://127.0.0.1:${port}`
const daemon = spawn(process.execPath, [bin, 'serve', '--port', String(port)], {
  cwd: directory,
  env: {...process.env, SAASCTL_DATABASE_URL: path.join(directory, 'bench.db'), SAASCTL_INTROSPECTION_SECRET: introspectionSecret, SAASCTL_LOG_LEVEL: 'warn', SAASCTL_MAX_SESSIONS_PER_USER: '1000'},
  stdio: ['ignore', 'ignore', 'inherit'],
})

try {
  await waitForHealth()
  const email = 'bench@example.com'
  const password = 'correct horse battery staple'
  await postJson('/v1/auth/register', {email, password, name: 'Bench'})
  const {access_token: accessToken} = await postJson('/v1/auth/login', {email, password})
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
  console.log(`\nsaas-ctl bench — ${SECONDS}s per run, ${CONNECTIONS} connections, Node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, SQLite\n`)
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
  daemon.kill('SIGTERM')
  await new Promise((resolve) => daemon.once('exit', resolve))
  rmSync(directory, {recursive: true, force: true})
}

function load(options) {
  return autocannon({connections: CONNECTIONS, duration: SECONDS, ...options})
}

async function postJson(route, body) {
  const response = await fetch(`${base}${route}`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)})
  const json = await response.json()
  if (!response.ok) throw new Error(`${route} answered ${response.status}: ${JSON.stringify(json)}`)
  return json
}

async function waitForHealth() {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/health`)).ok) return
    } catch {}
    await sleep(100)
  }
  throw new Error('the daemon did not become healthy within 30 s')
}

function readRss(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'))
  return Math.round(Number(line?.replace(/\D+/g, '') ?? 0) / 1024)
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

function sleep(milliseconds) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}
