#!/usr/bin/env node
// Webhook deliveries per second to a local receiver: `saas-ctl serve` on a temporary SQLite
// database (webhook_allow_private on, the receiver is on loopback), one org endpoint
// subscribed to org.updated, BENCH_WEBHOOK_EVENTS audit events appended in one transaction by
// this process (each writes its delivery through the append hook), then the time until the
// receiver has accepted every one — signed, verified here with the official standardwebhooks
// package, each webhook-id once — from the commit on, with one daemon, then with two daemons on the same database.
// Also the daemons' CPU time per delivery (user + system, from /proc). Bounded; stops by itself.
// Run after `npm run build`.
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer} from 'node:http'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Webhook} from 'standardwebhooks'
import {loadAverageWithWarning, machineLine, processCpuMs, sleep, startDaemon} from './bench-lib.mjs'

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 3000)
const LIMIT_MS = 120_000
const {createCore} = await import('../../dist/src/core.js')
const {loadConfig} = await import('../../dist/src/config/load-config.js')
const {operatorActor} = await import('../../dist/src/access/principal.js')

const load = loadAverageWithWarning()
const directory = mkdtempSync(path.join(tmpdir(), 'saasctl-webhook-bench-'))
const OPERATOR = operatorActor('bench')
const env = {SAASCTL_WEBHOOK_ALLOW_PRIVATE: 'true', SAASCTL_WEBHOOK_POLL_MS: '50'}
const rows = []
let failures = 0

const receiver = await startReceiver()
try {
  for (const daemons of [1, 2]) rows.push(await run(daemons))
} finally {
  await receiver.stop()
  rmSync(directory, {recursive: true, force: true})
}

console.log(`\nsaas-ctl webhook bench — ${EVENTS} deliveries to one endpoint on 127.0.0.1, ${machineLine()}, load average ${load.toFixed(2)} at start, SQLite\n`)
console.log('| daemons | deliveries/s | daemon CPU ms per delivery | duplicates | bad signatures |')
console.log('|---|---|---|---|---|')
for (const row of rows) console.log(`| ${row.daemons} | ${Math.round(row.perSecond)} | ${row.cpuPerDelivery.toFixed(2)} | ${row.duplicates} | ${row.badSignatures} |`)
if (failures > 0) process.exitCode = 1

async function run(daemonCount) {
  const databaseUrl = path.join(directory, `bench-${daemonCount}.db`)
  const config = loadConfig({flags: {databaseUrl, webhookAllowPrivate: true}, env: {}, cwd: directory}).config
  const core = await createCore({config, cwd: directory})
  const daemons = []
  try {
    await core.orgs.createOrg(OPERATOR, {name: 'Webhook Bench', slug: 'bench'})
    const {secret} = await core.webhooks.createWebhook(OPERATOR, {org: 'bench', url: `${receiver.url}/in`, events: ['org.updated']})
    const orgId = (await core.database.db.selectFrom('organization').select('id').where('slug', '=', 'bench').executeTakeFirstOrThrow()).id
    for (let index = 0; index < daemonCount; index++) daemons.push(await startDaemon({databaseUrl, cwd: directory, env}))
    await sleep(500)
    receiver.reset(secret)
    // The deliveries become visible together when this transaction commits: the clock starts then.
    await core.database.db.transaction().execute(async (tx) => {
      for (let index = 0; index < EVENTS; index++) await core.audit.append(tx, OPERATOR, {action: 'org.updated', orgId, metadata: {n: index}})
    })
    const cpuBefore = daemons.reduce((sum, daemon) => sum + processCpuMs(daemon.pid), 0)
    const startedAt = performance.now()
    const deadline = Date.now() + LIMIT_MS
    while (receiver.accepted() < EVENTS && Date.now() < deadline) await sleep(20)
    const seconds = (performance.now() - startedAt) / 1000
    const cpu = daemons.reduce((sum, daemon) => sum + processCpuMs(daemon.pid), 0) - cpuBefore
    await sleep(300)
    const result = {daemons: daemonCount, perSecond: receiver.accepted() / seconds, cpuPerDelivery: cpu / Math.max(1, receiver.accepted()), duplicates: receiver.duplicates(), badSignatures: receiver.badSignatures()}
    if (receiver.accepted() < EVENTS || result.duplicates > 0 || result.badSignatures > 0) {
      console.error(`${daemonCount} daemon(s): ${receiver.accepted()} of ${EVENTS} delivered, ${result.duplicates} duplicates, ${result.badSignatures} bad signatures`)
      failures += 1
    }
    return result
  } finally {
    for (const daemon of daemons) await daemon.stop()
    await core.close()
  }
}

/** Answers 204, verifies each signature, counts each webhook-id. */
async function startReceiver() {
  let webhook
  const seen = new Set()
  let duplicates = 0
  let badSignatures = 0
  const server = createServer((request, response) => {
    const chunks = []
    request.on('data', (chunk) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      try {
        webhook.verify(body, request.headers)
      } catch {
        badSignatures += 1
      }
      const id = request.headers['webhook-id']
      if (seen.has(id)) duplicates += 1
      seen.add(id)
      response.writeHead(204).end()
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    reset(secret) {
      webhook = new Webhook(secret)
      seen.clear()
      duplicates = badSignatures = 0
    },
    accepted: () => seen.size,
    duplicates: () => duplicates,
    badSignatures: () => badSignatures,
    stop: () => new Promise((resolve) => server.close(resolve)),
  }
}
