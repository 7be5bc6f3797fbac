#!/usr/bin/env node
// The audit bench database: 1,000,000 hash-chained events, 100,000 of them in one org
// (`audit-bench`, owned by a user who can log in), seeded once and reused by later runs. The
// org and its owner are made by the CLI (the services); the events are bulk-inserted in
// batched transactions, continuing the chain from whatever the database already holds, so an
// interrupted seed resumes where it stopped and a complete one is skipped.
//
//   node test/bench/seed-audit.mjs [sqlite|postgres]   (after npm run build)
import {mkdirSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import BetterSqlite3 from 'better-sqlite3'
import pg from 'pg'
import {v7 as uuidv7} from 'uuid'
import {PASSWORD, saasCtl, saasCtlWithInput} from './bench-lib.mjs'

const {computeEventHash, GENESIS_HASH} = await import('../../dist/src/audit/audit-hash.js')

export const TOTAL_EVENTS = 1_000_000
export const ORG_EVENTS = 100_000
export const AUDIT_ORG = {slug: 'audit-bench', name: 'Audit Bench', ownerEmail: 'audit-owner@bench.example'}

const DATA_DIRECTORY = fileURLToPath(new URL('./.data/', import.meta.url))
const SQLITE_FILE = `${DATA_DIRECTORY}audit-bench.db`
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/saasctl_bench_audit'
const BATCH = 10_000
const COLUMNS = ['seq', 'id', 'action', 'org_id', 'actor_type', 'actor_id', 'actor_name', 'target_type', 'target_id', 'metadata', 'ip', 'user_agent', 'request_id', 'created_at', 'prev_hash', 'hash']

/**
 * Makes sure the dialect's bench database holds the events; returns its URL and what was done.
 * Postgres: creates the database when missing and applies migrations.
 */
export async function ensureAuditDatabase(dialect) {
  const started = Date.now()
  const databaseUrl = dialect === 'sqlite' ? SQLITE_FILE : POSTGRES_URL
  const store = dialect === 'sqlite' ? openSqliteStore() : await openPostgresStore()
  try {
    let state = await store.state()
    if (state.lastSeq >= TOTAL_EVENTS && state.orgEvents >= ORG_EVENTS) return {databaseUrl, inserted: 0, seconds: 0, ...state}
    if (dialect === 'postgres') await saasCtl(['migrate', 'up'], {databaseUrl})
    await saasCtlWithInput(['user', 'create', '--email', AUDIT_ORG.ownerEmail, '--name', 'Audit Owner', '--password-stdin', '--if-not-exists'], {databaseUrl, input: PASSWORD})
    await saasCtl(['org', 'create', '--name', AUDIT_ORG.name, '--slug', AUDIT_ORG.slug, '--owner', AUDIT_ORG.ownerEmail, '--if-not-exists'], {databaseUrl})
    state = await store.state()
    const toInsert = Math.max(0, TOTAL_EVENTS - state.lastSeq)
    const orgNeeded = Math.min(toInsert, Math.max(0, ORG_EVENTS - state.orgEvents))
    process.stderr.write(`seeding ${toInsert} audit events (${orgNeeded} in ${AUDIT_ORG.slug}) into ${dialect}…\n`)
    const events = generateEvents({...state, toInsert, orgNeeded})
    for (let batch = takeBatch(events); batch.length > 0; batch = takeBatch(events)) await store.insert(batch)
    await store.finish()
    return {databaseUrl, inserted: toInsert, seconds: (Date.now() - started) / 1000, ...(await store.state())}
  } finally {
    await store.close()
  }
}

/**
 * The events to append, chained to the newest one stored. Every org event of the bench org is
 * placed evenly among the others (so its 100,000 span the whole log); the rest belong to 999
 * other orgs or to no org (platform events). Timestamps never go backwards along the chain.
 */
function* generateEvents({lastSeq, lastHash, orgId, ownerId, toInsert, orgNeeded}) {
  const random = mulberry32(lastSeq + 1)
  const otherOrgs = Array.from({length: 999}, () => uuidv7())
  const members = [ownerId, ...Array.from({length: 199}, () => uuidv7())]
  const start = Date.now()
  let previousHash = lastHash
  for (let index = 0; index < toInsert; index += 1) {
    const inBenchOrg = Math.floor(((index + 1) * orgNeeded) / toInsert) > Math.floor((index * orgNeeded) / toInsert)
    const platform = !inBenchOrg && random() < 0.02
    const org = inBenchOrg ? orgId : platform ? null : otherOrgs[Math.floor(random() * otherOrgs.length)]
    const actorIndex = Math.floor(random() * members.length)
    const actorId = inBenchOrg ? members[actorIndex] : uuidv7()
    const template = platform ? PLATFORM_TEMPLATES[index % PLATFORM_TEMPLATES.length] : ORG_TEMPLATES[Math.floor(random() * ORG_TEMPLATES.length)]
    const event = {
      seq: lastSeq + 1 + index,
      id: uuidv7(),
      action: template.action,
      org_id: org,
      actor_type: platform ? 'cli' : 'user',
      actor_id: platform ? 'ops' : actorId,
      actor_name: platform ? 'ops' : `member${actorIndex}@acme.example`,
      target_type: template.targetType,
      target_id: template.targetType ? uuidv7() : null,
      metadata: JSON.stringify(template.metadata(random)),
      ip: platform ? null : `10.0.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`,
      user_agent: platform ? null : 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
      request_id: platform ? null : uuidv7(),
      // 100 events per millisecond: the whole seed spans 10 s, ordered like the chain.
      created_at: new Date(start + Math.floor(index / 100)).toISOString(),
      prev_hash: previousHash,
    }
    previousHash = computeEventHash(event)
    yield {...event, hash: previousHash}
  }
}

const ROLES = ['member', 'viewer', 'admin']
const ORG_TEMPLATES = [
  {action: 'session.created', targetType: 'session', metadata: () => ({method: 'password'})},
  {action: 'session.created', targetType: 'session', metadata: () => ({method: 'password'})},
  {action: 'session.org_switched', targetType: 'session', metadata: () => ({})},
  {action: 'member.added', targetType: 'user', metadata: (random) => ({role: ROLES[Math.floor(random() * 3)]})},
  {action: 'member.role_updated', targetType: 'user', metadata: (random) => ({from: 'member', to: ROLES[Math.floor(random() * 3)]})},
  {action: 'member.removed', targetType: 'user', metadata: () => ({role: 'member'})},
  {action: 'role.updated', targetType: 'role', metadata: () => ({key: 'billing', changes: {permissions: {added: ['billing.read'], removed: []}}})},
  {action: 'flag.override_set', targetType: 'flag', metadata: (random) => ({key: 'new-billing', value: random() < 0.5 ? 'on' : 'off'})},
  {action: 'org.updated', targetType: 'org', metadata: () => ({changes: {name: {from: 'Acme', to: 'Acme Corp'}}})},
]
const PLATFORM_TEMPLATES = [
  {action: 'user.created', targetType: 'user', metadata: () => ({email: 'someone@example.com'})},
  {action: 'flag.updated', targetType: 'flag', metadata: () => ({key: 'new-billing', changes: {rollout: {from: 10, to: 20}}})},
  {action: 'key.rotated', targetType: 'signing_key', metadata: () => ({})},
]

/** The next BATCH events (not a for…of: breaking out of one would close the generator). */
function takeBatch(events) {
  const batch = []
  for (let next = events.next(); !next.done; next = events.next()) {
    batch.push(next.value)
    if (batch.length === BATCH) break
  }
  return batch
}

function openSqliteStore() {
  mkdirSync(DATA_DIRECTORY, {recursive: true})
  const db = new BetterSqlite3(SQLITE_FILE)
  db.pragma('journal_mode = WAL')
  db.pragma('busy_timeout = 5000')
  // A bench database: a process crash loses no committed batch in WAL mode, and fsyncs on every
  // checkpoint made the seed I/O-bound. The indexes take random inserts; a large cache helps.
  db.pragma('synchronous = OFF')
  db.pragma('cache_size = -262144')
  let insertBatch
  return {
    async state() {
      const hasTables = db.prepare(`select count(*) as n from sqlite_master where type = 'table' and name in ('audit_event', 'organization')`).get().n === 2
      if (!hasTables) return {lastSeq: 0, lastHash: GENESIS_HASH, orgId: null, ownerId: null, orgEvents: 0}
      const last = db.prepare('select seq, hash from audit_event order by seq desc limit 1').get()
      const org = db.prepare('select id from organization where slug = ?').get(AUDIT_ORG.slug)
      const owner = db.prepare('select id from user_account where email = ?').get(AUDIT_ORG.ownerEmail)
      const orgEvents = org ? db.prepare('select count(*) as n from audit_event where org_id = ?').get(org.id).n : 0
      return {lastSeq: last?.seq ?? 0, lastHash: last?.hash ?? GENESIS_HASH, orgId: org?.id ?? null, ownerId: owner?.id ?? null, orgEvents}
    },
    async insert(rows) {
      if (!insertBatch) {
        const statement = db.prepare(`insert into audit_event (${COLUMNS.join(', ')}) values (${COLUMNS.map((column) => `@${column}`).join(', ')})`)
        insertBatch = db.transaction((batch) => {
          for (const row of batch) statement.run(row)
        })
      }
      insertBatch.immediate(rows)
    },
    async finish() {
      db.pragma('wal_checkpoint(TRUNCATE)')
    },
    async close() {
      db.close()
    },
  }
}

async function openPostgresStore() {
  await ensurePostgresDatabase()
  const client = new pg.Client({connectionString: POSTGRES_URL})
  await client.connect()
  const types = ['bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'timestamptz', 'text', 'text']
  // One statement per batch: each column travels as one array parameter.
  const insertSql = `insert into audit_event (${COLUMNS.join(', ')}) select * from unnest(${types.map((type, index) => `$${index + 1}::${type}[]`).join(', ')})`
  return {
    async state() {
      const tables = await client.query(`select count(*)::int as n from information_schema.tables where table_schema = 'public' and table_name in ('audit_event', 'organization')`)
      if (tables.rows[0].n !== 2) return {lastSeq: 0, lastHash: GENESIS_HASH, orgId: null, ownerId: null, orgEvents: 0}
      const last = (await client.query('select seq, hash from audit_event order by seq desc limit 1')).rows[0]
      const org = (await client.query('select id from organization where slug = $1', [AUDIT_ORG.slug])).rows[0]
      const owner = (await client.query('select id from user_account where email = $1', [AUDIT_ORG.ownerEmail])).rows[0]
      const orgEvents = org ? (await client.query('select count(*)::int as n from audit_event where org_id = $1', [org.id])).rows[0].n : 0
      return {lastSeq: last ? Number(last.seq) : 0, lastHash: last?.hash ?? GENESIS_HASH, orgId: org?.id ?? null, ownerId: owner?.id ?? null, orgEvents}
    },
    async insert(rows) {
      await client.query('begin')
      try {
        // The daemon's chain lock: no other append may interleave with ours.
        await client.query('select pg_advisory_xact_lock(7301001)')
        await client.query(insertSql, COLUMNS.map((column) => rows.map((row) => row[column])))
        await client.query('commit')
      } catch (error) {
        await client.query('rollback')
        throw error
      }
    },
    async finish() {
      // What autovacuum would do soon after a bulk load; the planner needs the statistics.
      await client.query('analyze audit_event')
    },
    async close() {
      await client.end()
    },
  }
}

async function ensurePostgresDatabase() {
  const target = new URL(POSTGRES_URL)
  const name = decodeURIComponent(target.pathname.slice(1))
  const admin = new URL(POSTGRES_URL)
  admin.pathname = '/postgres'
  const client = new pg.Client({connectionString: admin.href})
  await client.connect()
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name])
    if (exists.rowCount === 0) await client.query(`create database "${name.replaceAll('"', '""')}"`)
  } finally {
    await client.end()
  }
}

/** A small seeded PRNG: the same seed gives the same log. */
function mulberry32(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const dialect of process.argv.length > 2 ? process.argv.slice(2) : ['sqlite', 'postgres']) {
    const outcome = await ensureAuditDatabase(dialect)
    console.log(`${dialect}: ${outcome.lastSeq} events, ${outcome.orgEvents} in ${AUDIT_ORG.slug}; inserted ${outcome.inserted} in ${outcome.seconds.toFixed(1)} s`)
  }
}
