#!/usr/bin/env node
// How fast the CLI starts: `saas-ctl org list --json` on an existing, current SQLite database
// (10 organizations) against `node -e 0`, each run as its own process, the two interleaved so
// both see the same machine; the median of BENCH_RUNS runs (default 10) after two warm-up runs.
// `saas-ctl --version` (oclif alone, no database) is measured beside them as the floor, and org
// list once more with an empty code cache directory each run (the first start after an install
// or a build: it compiles the bundle and writes the cache). The code cache lives in a directory of
// the bench's own ($XDG_CACHE_HOME), filled by the warm-up runs.
// Target: org list within 3× node -e 0.
//
//   node test/bench/cli-start-bench.mjs   (after npm run build)
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {BIN, loadAverageWithWarning, machineLine} from './bench-lib.mjs'

const RUNS = Number(process.env.BENCH_RUNS ?? 10)
const WARM_UP = 2
const TARGET_RATIO = 3

const cwd = mkdtempSync(path.join(tmpdir(), 'saasctl-cli-start-'))
const env = {...process.env, SAASCTL_DATABASE_URL: path.join(cwd, 'saas-ctl.db'), NODE_ENV: 'production', XDG_CACHE_HOME: path.join(cwd, 'cache')}
delete env.NODE_OPTIONS
let coldRuns = 0
/** A cache directory no run has used yet. */
const emptyCache = () => ({XDG_CACHE_HOME: path.join(cwd, `cold-cache-${++coldRuns}`)})

const cases = [
  {name: '`node -e 0`', args: ['-e', '0']},
  {name: '`saas-ctl --version` (oclif, no database)', args: [BIN, '--version']},
  {name: '`saas-ctl org list --json`', args: [BIN, 'org', 'list', '--json']},
  {name: '`saas-ctl org list --json`, no code cache yet', args: [BIN, 'org', 'list', '--json'], env: emptyCache},
]

/** Wall time of one run of node with these arguments (and variables of its own), in milliseconds. */
function timeRun({args, env: caseEnv}) {
  const runEnv = {...env, ...caseEnv?.()}
  const started = process.hrtime.bigint()
  execFileSync(process.execPath, args, {cwd, env: runEnv, stdio: ['ignore', 'pipe', 'inherit']})
  return Number(process.hrtime.bigint() - started) / 1e6
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

try {
  // An existing database: created, migrated and given some organizations before timing.
  for (let index = 1; index <= 10; index += 1) {
    execFileSync(process.execPath, [BIN, 'org', 'create', '--name', `Bench ${index}`, '--slug', `bench-${index}`, '--json'], {cwd, env, stdio: 'ignore'})
  }
  const listed = JSON.parse(execFileSync(process.execPath, [BIN, 'org', 'list', '--json'], {cwd, env, encoding: 'utf8'}))
  if (listed.length !== 10) throw new Error(`org list returned ${listed.length} organizations, expected 10`)

  const load = loadAverageWithWarning()
  for (let run = 0; run < WARM_UP; run += 1) for (const benchCase of cases) timeRun(benchCase)
  const times = cases.map(() => [])
  for (let run = 0; run < RUNS; run += 1) cases.forEach((benchCase, index) => times[index].push(timeRun(benchCase)))

  const baseline = median(times[0])
  console.log(`\nCLI start: ${machineLine()}, load average ${load.toFixed(2)} at start, median of ${RUNS} runs\n`)
  console.log('| command | median ms | min ms | max ms | × node -e 0 |')
  console.log('|---|---|---|---|---|')
  cases.forEach((benchCase, index) => {
    const values = times[index]
    console.log(`| ${benchCase.name} | ${median(values).toFixed(0)} | ${Math.min(...values).toFixed(0)} | ${Math.max(...values).toFixed(0)} | ${(median(values) / baseline).toFixed(2)} |`)
  })
  const ratio = median(times[2]) / baseline
  console.log(`\norg list --json / node -e 0 = ${ratio.toFixed(2)} (target ≤ ${TARGET_RATIO}): ${ratio <= TARGET_RATIO ? 'met' : 'not met'}`)
} finally {
  rmSync(cwd, {recursive: true, force: true})
}
