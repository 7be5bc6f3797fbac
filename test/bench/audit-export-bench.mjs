#!/usr/bin/env node
// `saas-ctl audit export` on the audit bench database (1,000,000 hash-chained events, 100,000
// of them in one org; seeded once by seed-audit.mjs and reused): rows per second and the
// process's peak RSS (VmHWM, read from /proc while it runs) for JSON Lines and CSV, the whole
// log and one org, next to an export of nothing (the CLI's own floor). Constant memory shows
// as a peak that does not grow with the rows exported.
//
//   node test/bench/audit-export-bench.mjs [sqlite|postgres|both]   (after npm run build; default sqlite)
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {BIN, loadAverageWithWarning, machineLine} from './bench-lib.mjs'
import {AUDIT_ORG, ensureAuditDatabase, POSTGRES_URL} from './seed-audit.mjs'

const which = process.argv[2] ?? 'sqlite'
const dialects = which === 'both' ? ['sqlite', 'postgres'] : [which]
const load = loadAverageWithWarning()
const directory = mkdtempSync(path.join(tmpdir(), 'saasctl-export-bench-'))
const rows = []
const notes = []
/** The V8 old-space cap of the constant-memory runs (the CLI itself needs about 30 MiB of heap). */
const SMALL_HEAP_MIB = 48

/** Runs the export in its own process; samples its peak RSS until it exits. */
async function runExport(databaseUrl, args, nodeArgs = []) {
  const file = path.join(directory, `export-${rows.length}.out`)
  const started = process.hrtime.bigint()
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'audit', 'export', ...args, '-o', file, '--json'], {
    env: {...process.env, SAASCTL_DATABASE_URL: databaseUrl},
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let stdout = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  let peakKiB = 0
  const sample = () => {
    try {
      const line = readFileSync(`/proc/${child.pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmHWM:'))
      peakKiB = Math.max(peakKiB, Number(line?.replace(/\D+/g, '') ?? 0))
    } catch {
      // exited between two samples
    }
  }
  const sampler = setInterval(sample, 20)
  const code = await new Promise((resolve) => child.once('exit', resolve))
  clearInterval(sampler)
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  if (code !== 0) throw new Error(`audit export ${args.join(' ')} exited ${code}: ${stdout}`)
  const {events} = JSON.parse(stdout)
  const bytes = statSync(file).size
  rmSync(file)
  return {events, seconds, peakMiB: peakKiB / 1024, fileMiB: bytes / 2 ** 20}
}

for (const dialect of dialects) {
  let seeded
  try {
    seeded = await ensureAuditDatabase(dialect)
  } catch (error) {
    if (dialect !== 'postgres') throw error
    notes.push(`Postgres not measured: ${POSTGRES_URL.replace(/\/\/[^@/]*@/, '//')} unreachable (${error.code ?? error.message})`)
    continue
  }
  if (seeded.inserted > 0) notes.push(`${dialect}: seeded ${seeded.inserted} events in ${seeded.seconds.toFixed(0)} s (once; later runs reuse them)`)
  const label = dialect === 'sqlite' ? 'SQLite' : 'Postgres'
  const cases = [
    ['nothing (--since 2999-01-01)', ['--since', '2999-01-01']],
    [`one org (${AUDIT_ORG.slug}), JSON Lines`, ['--org', AUDIT_ORG.slug]],
    ['all events, JSON Lines', []],
    ['all events, CSV', ['--format', 'csv']],
    // A heap far smaller than the output: the export completes only if it holds a bounded amount.
    [`all events, JSON Lines, node --max-old-space-size=${SMALL_HEAP_MIB}`, [], [`--max-old-space-size=${SMALL_HEAP_MIB}`]],
    [`all events, CSV, node --max-old-space-size=${SMALL_HEAP_MIB}`, ['--format', 'csv'], [`--max-old-space-size=${SMALL_HEAP_MIB}`]],
  ]
  for (const [what, args, nodeArgs] of cases) {
    const result = await runExport(seeded.databaseUrl, args, nodeArgs)
    rows.push({label, what, ...result})
    process.stderr.write(`${label} ${what}: ${result.events} events in ${result.seconds.toFixed(1)} s, peak RSS ${result.peakMiB.toFixed(0)} MiB\n`)
  }
}
rmSync(directory, {recursive: true, force: true})

console.log(`\naudit export — ${machineLine()}, load average ${load.toFixed(2)} at start\n`)
console.log('| database | export | events | seconds | events/s | peak RSS MiB | output MiB |')
console.log('|---|---|---|---|---|---|---|')
for (const row of rows) {
  const rate = row.events > 0 ? Math.round(row.events / row.seconds).toLocaleString('en-US') : '–'
  console.log(`| ${row.label} | ${row.what} | ${row.events.toLocaleString('en-US')} | ${row.seconds.toFixed(1)} | ${rate} | ${row.peakMiB.toFixed(0)} | ${row.fileMiB.toFixed(0)} |`)
}
for (const note of notes) console.log(`\n- ${note}`)
