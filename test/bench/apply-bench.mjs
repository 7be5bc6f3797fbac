#!/usr/bin/env node
// Declarative provisioning at scale: a file of 1,000 organizations (enterprise tier) × 10
// members each (10,000 users without passwords, a flag, an override per org), applied with the
// real CLI (`saas-ctl apply -f`) on an empty SQLite database, then applied again (nothing to
// do: the plan is read and found empty). The same state as YAML (tenants.yaml) and as JSON
// (tenants.json, read by JSON.parse), each on its own empty database. Target: the first apply
// under 10 s.
//
//   node test/bench/apply-bench.mjs [orgs] [members-per-org]   (after npm run build)
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {stringify} from 'yaml'
import {BIN, loadAverageWithWarning, machineLine} from './bench-lib.mjs'

const ORGS = Number(process.argv[2] ?? 1000)
const MEMBERS = Number(process.argv[3] ?? 10)
const TARGET_SECONDS = 10

const cwd = mkdtempSync(path.join(tmpdir(), 'saasctl-apply-bench-'))

function envFor(database) {
  const env = {...process.env, SAASCTL_DATABASE_URL: path.join(cwd, database), NODE_ENV: 'production'}
  delete env.NODE_OPTIONS
  return env
}

/** The desired state: every org with its owner, an admin and members, and an override of the one flag. */
function generateState() {
  const users = []
  const orgs = []
  for (let org = 0; org < ORGS; org += 1) {
    const slug = `tenant-${String(org).padStart(4, '0')}`
    const members = []
    for (let member = 0; member < MEMBERS; member += 1) {
      const email = `user-${member}@${slug}.example`
      users.push({email, name: `User ${member} of ${slug}`})
      members.push({user: email, role: member === 0 ? 'owner' : member === 1 ? 'admin' : 'member'})
    }
    orgs.push({slug, name: `Tenant ${org}`, tier: 'enterprise', members, flags: {'new-ui': org % 2 === 0 ? 'on' : 'off'}})
  }
  return {users, flags: [{key: 'new-ui', description: 'The new UI', default: false}], orgs}
}

// The CPU time the apply process used (user + system), written to fd 3 as it exits: unlike the
// wall time it hardly moves when other processes share the cores.
const CPU_REPORT = `data:text/javascript,${encodeURIComponent("import {writeSync} from 'node:fs'; process.on('exit', () => { const u = process.cpuUsage(); try { writeSync(3, String((u.user + u.system) / 1e6)) } catch {} })")}`

function timeApply(file, env) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, ['--import', CPU_REPORT, BIN, 'apply', '-f', file], {cwd, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20, stdio: ['ignore', 'pipe', 'inherit', 'pipe']})
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  if (result.status !== 0) throw new Error(`apply exited ${result.status}`)
  return {seconds, cpuSeconds: Number(result.output[3]), lastLine: result.stdout.trim().split('\n').at(-1)}
}

/** A first apply on an empty (migrated) database, then the same file again. */
function benchFormat(file, database) {
  const env = envFor(database)
  // The schema exists before timing (a first command migrates a new SQLite file).
  execFileSync(process.execPath, [BIN, 'org', 'list', '--json'], {cwd, env, stdio: 'ignore'})
  const first = timeApply(file, env)
  const second = timeApply(file, env)
  if (second.lastLine !== 'No changes.') throw new Error(`the second apply was not a no-op: ${second.lastLine}`)
  const count = JSON.parse(execFileSync(process.execPath, [BIN, 'org', 'list', '--json'], {cwd, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20})).length
  if (count !== ORGS) throw new Error(`${count} organizations after apply, expected ${ORGS}`)
  return {first, second}
}

try {
  const state = generateState()
  const yamlFile = path.join(cwd, 'tenants.yaml')
  const jsonFile = path.join(cwd, 'tenants.json')
  writeFileSync(yamlFile, stringify(state))
  writeFileSync(jsonFile, JSON.stringify(state))
  const load = loadAverageWithWarning()
  const results = [['YAML', benchFormat(yamlFile, 'yaml.db')], ['JSON', benchFormat(jsonFile, 'json.db')]]
  console.log(`\nApply: ${machineLine()}, load average ${load.toFixed(2)} at start, ${ORGS} orgs × ${MEMBERS} members (${ORGS * MEMBERS} users)\n`)
  console.log('| file | first apply, empty database: wall s | CPU s | second apply (No changes.): wall s | CPU s |')
  console.log('|---|---|---|---|---|')
  for (const [format, {first, second}] of results) {
    console.log(`| ${format} | ${first.seconds.toFixed(1)} | ${first.cpuSeconds.toFixed(1)} | ${second.seconds.toFixed(1)} | ${second.cpuSeconds.toFixed(1)} |`)
  }
  console.log(`\n${results[0][1].first.lastLine}`)
  const met = results.every(([, {first}]) => first.seconds < TARGET_SECONDS)
  console.log(`target: first apply < ${TARGET_SECONDS} s: ${met ? 'met' : 'NOT met'}`)
} finally {
  rmSync(cwd, {recursive: true, force: true})
}
