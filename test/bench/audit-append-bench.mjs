#!/usr/bin/env node
// What the signed head checkpoint costs an audited change: appends per second, one writer, each
// append in its own transaction (as every change appends), on a fresh database per case:
//   baseline — the append as it was before checkpoints (chain lock, read the newest event, insert);
//   interval 1 — core.audit.append with audit_checkpoint_interval 1 (default: read the head,
//                HMAC, upsert on every append);
//   interval 100 — the head read on every append, signed every 100th.
//
//   node test/bench/audit-append-bench.mjs [sqlite|postgres|both]   (after npm run build; default both)
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {v7 as uuidv7} from 'uuid'
import {loadAverageWithWarning, machineLine} from './bench-lib.mjs'

const {createCore} = await import('../../dist/src/core.js')
const {loadConfig} = await import('../../dist/src/config/load-config.js')
const {operatorActor} = await import('../../dist/src/access/principal.js')
const {computeEventHash, GENESIS_HASH} = await import('../../dist/src/audit/audit-hash.js')
const {lockAuditChain} = await import('../../dist/src/db/dialect-helpers.js')

const ADMIN_URL = process.env.BENCH_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const APPENDS = Number(process.env.BENCH_APPENDS ?? 3000)
const WARM_UP = 300
const which = process.argv[2] ?? 'both'
const dialects = which === 'both' ? ['sqlite', 'postgres'] : [which]
const actor = operatorActor('bench')
const load = loadAverageWithWarning()
const rows = []
const notes = []

/** The append before checkpoints: chain lock, newest event, insert. */
async function baselineAppend(trx) {
  await lockAuditChain(trx)
  const last = await trx.selectFrom('audit_event').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst()
  const event = {
    seq: (last ? Number(last.seq) : 0) + 1,
    id: uuidv7(),
    action: 'flag.updated',
    org_id: null,
    actor_type: 'cli',
    actor_id: 'bench',
    actor_name: 'bench',
    target_type: 'flag',
    target_id: 'f',
    metadata: JSON.stringify({changes: {rollout: {from: 10, to: 20}}}),
    ip: null,
    user_agent: null,
    request_id: null,
    created_at: new Date().toISOString(),
    prev_hash: last?.hash ?? GENESIS_HASH,
  }
  await trx.insertInto('audit_event').values({...event, hash: computeEventHash(event)}).execute()
}

async function openDatabase(dialect) {
  if (dialect === 'sqlite') {
    const directory = mkdtempSync(path.join(tmpdir(), 'saasctl-append-bench-'))
    return {url: path.join(directory, 'bench.db'), drop: async () => rmSync(directory, {recursive: true, force: true})}
  }
  const name = `saasctl_bench_append_${randomBytes(4).toString('hex')}`
  const admin = async (statement) => {
    const client = new pg.Client({connectionString: ADMIN_URL})
    await client.connect()
    try {
      await client.query(statement)
    } finally {
      await client.end()
    }
  }
  await admin(`create database ${name}`)
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return {url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`)}
}

async function measure(dialect, label, settings, append) {
  const database = await openDatabase(dialect)
  const flags = {databaseUrl: database.url, secretKey: randomBytes(32).toString('base64'), ...settings}
  const core = await createCore({config: loadConfig({flags, env: {}, cwd: process.cwd()}).config, cwd: process.cwd(), schema: 'migrate'})
  const db = core.database.db
  const appendOnce = append ?? ((trx) => core.audit.append(trx, actor, {action: 'flag.updated', target: {type: 'flag', id: 'f'}, metadata: {changes: {rollout: {from: 10, to: 20}}}}))
  try {
    for (let index = 0; index < WARM_UP; index += 1) await db.transaction().execute(appendOnce)
    const cpuBefore = process.cpuUsage()
    const started = process.hrtime.bigint()
    for (let index = 0; index < APPENDS; index += 1) await db.transaction().execute(appendOnce)
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const cpu = process.cpuUsage(cpuBefore)
    const verified = append ? null : await core.audit.verify()
    if (verified && !verified.isIntact) throw new Error(`${label}: chain does not verify: ${verified.problem?.message}`)
    rows.push({dialect, label, perSecond: APPENDS / seconds, microseconds: (seconds * 1e6) / APPENDS, cpuMicroseconds: (cpu.user + cpu.system) / APPENDS})
    process.stderr.write(`${dialect} ${label}: ${(APPENDS / seconds).toFixed(0)} appends/s\n`)
  } finally {
    await core.close()
    await database.drop()
  }
}

for (const dialect of dialects) {
  try {
    await measure(dialect, 'baseline (no checkpoint)', {}, baselineAppend)
    await measure(dialect, 'checkpoint every append (interval 1)', {auditCheckpointInterval: 1})
    await measure(dialect, 'checkpoint every 100 (interval 100)', {auditCheckpointInterval: 100})
  } catch (error) {
    if (dialect !== 'postgres') throw error
    notes.push(`Postgres not measured: ${error.code ?? error.message}`)
  }
}

console.log(`\naudit append — ${machineLine()}, load average ${load.toFixed(2)} at start, ${APPENDS} appends after ${WARM_UP} warm-up, one transaction each\n`)
console.log('| database | append | appends/s | µs per append (wall) | µs CPU of this process per append |')
console.log('|---|---|---|---|---|')
for (const row of rows) console.log(`| ${row.dialect} | ${row.label} | ${row.perSecond.toFixed(0)} | ${row.microseconds.toFixed(0)} | ${row.cpuMicroseconds.toFixed(0)} |`)
for (const note of notes) console.log(`\n- ${note}`)
