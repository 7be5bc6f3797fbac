#!/usr/bin/env node
// The organization API's speed figures (issue 6 §5), over loopback with autocannon:
//   (e) POST /v1/orgs on SQLite: req/s, load spread over several users' tokens, a unique slug per request;
//   (f) GET /v1/orgs/{org}/flags: the daemon's CPU time per request (user + system, from /proc,
//       over a fixed number of requests after a warm-up), with 20 flags (rollouts, overrides);
//   (g) GET /v1/orgs/{org}/audit?limit=100 for an org holding 100,000 of 1,000,000 events, p95,
//       on SQLite and Postgres (bench databases seeded once by seed-audit.mjs and reused).
// Every run is bounded (by time or request count) and stops by itself. Run after `npm run build`.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {loadAverageWithWarning, loadWithLatencies, machineLine, PASSWORD, processCpuMs, requestJson, saasCtl, sleep, startDaemon} from './bench-lib.mjs'
import {AUDIT_ORG, ensureAuditDatabase, POSTGRES_URL} from './seed-audit.mjs'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const CPU_REQUESTS = Number(process.env.BENCH_CPU_REQUESTS ?? 20_000)
const CPU_CONNECTIONS = 10
const AUDIT_CONNECTIONS = [1, 10]
const USERS = 4
const TARGETS = {orgCreatePerSecond: 550, flagsCpuMs: 0.35, auditP95Ms: 20}

const load = loadAverageWithWarning()

const rows = []
const targets = []
const notes = []
const directory = mkdtempSync(path.join(tmpdir(), 'saasctl-org-bench-'))
try {
  await benchOrgCreateAndFlags()
  for (const dialect of ['sqlite', 'postgres']) await benchAudit(dialect)
} finally {
  rmSync(directory, {recursive: true, force: true})
}
printReport()

/** (e) and (f) on a fresh SQLite database. */
async function benchOrgCreateAndFlags() {
  const databaseUrl = path.join(directory, 'bench.db')
  // Tokens must outlive the runs; sessions are not limited so registrations never revoke one.
  const daemon = await startDaemon({databaseUrl, cwd: directory, env: {SAASCTL_ACCESS_TOKEN_TTL_SECONDS: '3600', SAASCTL_MAX_SESSIONS_PER_USER: '1000'}})
  try {
    const users = await Promise.all(
      Array.from({length: USERS}, (_, index) =>
        requestJson(daemon.base, '/v1/auth/register', {method: 'POST', body: {email: `bench${index}@example.com`, password: PASSWORD, name: `Bench ${index}`, org_name: `Flags Bench ${index}`}}),
      ),
    )
    const tokens = users.map((user) => user.access_token)

    const runTag = Date.now().toString(36)
    let counter = 0
    const create = await loadWithLatencies({
      url: daemon.base,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: 'POST',
          path: '/v1/orgs',
          headers: {'content-type': 'application/json'},
          setupRequest(request) {
            const n = counter++
            const body = JSON.stringify({name: `Bench Org ${n}`, slug: `bench-${runTag}-${n}`})
            return {...request, headers: {...request.headers, authorization: `Bearer ${tokens[n % tokens.length]}`}, body}
          },
        },
      ],
    })
    rows.push(['(e) POST /v1/orgs (SQLite)', create, CONNECTIONS])
    const createRate = create.result.requests.average
    targets.push([`POST /v1/orgs on SQLite ≥ ${TARGETS.orgCreatePerSecond} req/s`, `${Math.round(createRate)} req/s`, createRate >= TARGETS.orgCreatePerSecond])

    const flagsOrg = users[0].org
    const flagCount = await seedFlags(databaseUrl, users.map((user) => user.org.slug))
    const route = `/v1/orgs/${flagsOrg.slug}/flags`
    const sample = await requestJson(daemon.base, route, {token: tokens[0]})
    const evaluated = flagItems(sample)
    if (evaluated.length !== flagCount) throw new Error(`${route} returned ${evaluated.length} flags, ${flagCount} exist`)
    const reasons = countBy(evaluated, (flag) => flag.reason)
    // The same measure of GET /health first: the floor any route pays (HTTP, middleware, JSON).
    const health = await measureCpu(daemon, {url: `${daemon.base}/health`})
    rows.push(['(f0) GET /health (CPU baseline)', health.run, CPU_CONNECTIONS])
    const {run: flags, cpuPerRequest} = await measureCpu(daemon, {url: `${daemon.base}${route}`, headers: {authorization: `Bearer ${tokens[0]}`}})
    rows.push([`(f) GET /v1/orgs/{org}/flags (SQLite, ${flagCount} flags)`, flags, CPU_CONNECTIONS])
    targets.push([`GET /v1/orgs/{org}/flags ≤ ${TARGETS.flagsCpuMs} ms server CPU/request`, `${cpuPerRequest.toFixed(3)} ms (${flagCount} flags evaluated: ${Object.entries(reasons).map(([reason, n]) => `${n} ${reason}`).join(', ')})`, cpuPerRequest <= TARGETS.flagsCpuMs])
    notes.push(`(f) daemon CPU (user + system from /proc/<pid>/stat) over ${flags.count} requests after 2000 warm-up requests, ${CPU_CONNECTIONS} connections; the database held ${(create.statuses.get(201) ?? 0) + USERS} orgs. GET /health measured the same way: ${health.cpuPerRequest.toFixed(3)} ms/request`)
  } finally {
    await daemon.stop()
  }
}

/** The daemon's CPU time per request over CPU_REQUESTS requests, after 2000 warm-up requests. */
async function measureCpu(daemon, options) {
  await loadWithLatencies({...options, connections: CPU_CONNECTIONS, amount: 2000}) // JIT, statement cache, verified-token cache
  await sleep(200)
  const before = processCpuMs(daemon.pid)
  const run = await loadWithLatencies({...options, connections: CPU_CONNECTIONS, amount: CPU_REQUESTS})
  return {run, cpuPerRequest: (processCpuMs(daemon.pid) - before) / run.count}
}

/**
 * 20 flags as an app would have them: 8 in a percentage rollout, 12 on a plain default; 5 of
 * them overridden for the bench org and 10 overridden in each of 3 other orgs. Returns the flag count.
 */
async function seedFlags(databaseUrl, [orgSlug, ...otherSlugs]) {
  const keys = []
  for (let index = 0; index < 20; index += 1) {
    const key = `bench-flag-${String(index).padStart(2, '0')}`
    const shape = index < 8 ? ['--rollout', String(10 * (index + 1))] : ['--default', index < 14 ? 'on' : 'off']
    await saasCtl(['flag', 'create', key, '--description', `Bench flag ${index}`, ...shape], {databaseUrl})
    keys.push(key)
  }
  for (const [index, value] of [[2, 'on'], [5, 'off'], [9, 'off'], [15, 'on'], [18, 'on']]) await saasCtl(['flag', 'override', keys[index], value, '--org', orgSlug], {databaseUrl})
  for (const [index, slug] of otherSlugs.entries()) {
    for (const key of keys.slice(0, 10)) await saasCtl(['flag', 'override', key, index % 2 ? 'on' : 'off', '--org', slug], {databaseUrl})
  }
  return keys.length
}

/** (g) on one dialect: seed (or reuse) the bench database, log in as the org's owner, load. */
async function benchAudit(dialect) {
  let seeded
  try {
    seeded = await ensureAuditDatabase(dialect)
  } catch (error) {
    if (dialect !== 'postgres') throw error
    targets.push([`GET /v1/orgs/{org}/audit?limit=100 p95 < ${TARGETS.auditP95Ms} ms, Postgres`, `not measured: ${POSTGRES_URL.replace(/\/\/[^@/]*@/, '//')} unreachable (${error.code ?? error.message})`, null])
    return
  }
  if (seeded.inserted > 0) notes.push(`(g) ${dialect}: seeded ${seeded.inserted} events in ${seeded.seconds.toFixed(0)} s (once; later runs reuse them)`)
  const label = dialect === 'sqlite' ? 'SQLite' : 'Postgres'
  const daemon = await startDaemon({databaseUrl: seeded.databaseUrl, cwd: directory, args: dialect === 'postgres' ? ['--migrate'] : []})
  try {
    const {access_token: token} = await requestJson(daemon.base, '/v1/auth/login', {method: 'POST', body: {email: AUDIT_ORG.ownerEmail, password: PASSWORD, org: AUDIT_ORG.slug}})
    const route = `/v1/orgs/${AUDIT_ORG.slug}/audit?limit=100`
    const page = await requestJson(daemon.base, route, {token})
    const items = page.items ?? page.events ?? []
    if (items.length !== 100) throw new Error(`${route} returned ${items.length} events, expected 100`)
    const options = {url: `${daemon.base}${route}`, headers: {authorization: `Bearer ${token}`}}
    await loadWithLatencies({...options, connections: 1, amount: 300}) // warm-up: JIT, caches
    for (const connections of AUDIT_CONNECTIONS) {
      const run = await loadWithLatencies({...options, connections, duration: SECONDS / 2})
      rows.push([`(g) GET /v1/orgs/{org}/audit?limit=100 (${label})`, run, connections])
      targets.push([`GET …/audit?limit=100 p95 < ${TARGETS.auditP95Ms} ms, ${label}, ${connections} connection${connections > 1 ? 's' : ''}`, `${run.p95.toFixed(1)} ms`, run.p95 < TARGETS.auditP95Ms])
    }
    notes.push(`(g) ${dialect}: ${seeded.lastSeq} events in the log, ${seeded.orgEvents} in ${AUDIT_ORG.slug}; a page is ${Buffer.byteLength(JSON.stringify(page))} bytes of JSON`)
  } finally {
    await daemon.stop()
  }
}

function printReport() {
  console.log(`\nsaas-ctl org API bench — ${machineLine()}, load average ${load.toFixed(2)} at start\n`)
  console.log('| endpoint | connections | req/s | p50 ms | p95 ms | p99 ms | non-2xx |')
  console.log('|---|---|---|---|---|---|---|')
  for (const [name, run, connections] of rows) {
    console.log(`| ${name} | ${connections} | ${Math.round(run.result.requests.average)} | ${run.p50.toFixed(1)} | ${run.p95.toFixed(1)} | ${run.p99.toFixed(1)} | ${run.result.non2xx} |`)
  }
  console.log('\n| target | measured | met |')
  console.log('|---|---|---|')
  for (const [target, measured, met] of targets) console.log(`| ${target} | ${measured} | ${met === null ? '—' : met ? 'yes' : '**no**'} |`)
  console.log('')
  for (const note of notes) console.log(note)
  const failures = rows.filter(([, run]) => run.result.non2xx > 0 || run.result.errors > 0)
  if (failures.length > 0) {
    console.error(`\nrequests failed in: ${failures.map(([name, run]) => `${name} (${[...run.statuses].map(([status, n]) => `${n}× ${status}`).join(', ')})`).join('; ')}`)
    process.exitCode = 1
  }
}

function flagItems(body) {
  return Array.isArray(body) ? body : (body.items ?? body.flags ?? [])
}

function countBy(items, keyOf) {
  const counts = {}
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1
  return counts
}
