#!/usr/bin/env node
// npm run bench (part): logins with 2FA on SQLite. Registers users (OWASP argon2id parameters
// unchanged), turns 2FA on for each, then for BENCH_SECONDS runs password step + code step
// (POST /v1/auth/login, then /v1/auth/login/2fa) from several clients at once, with the failure
// bookkeeping on as shipped (every attempt recorded, budgets and lockouts checked) — and
// GET /health at 200 req/s beside it. Reports completed logins per second of the daemon's CPU
// (target ≥ 30) and /health p99 during the run (target < 20 ms).
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {generate} from 'otplib'
import {loadAverageWithWarning, loadWithLatencies, machineLine, PASSWORD as password, processCpuMs, requestJson, startDaemon} from './bench-lib.mjs'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CLIENTS = Number(process.env.BENCH_LOGIN_CLIENTS ?? 8)
// A code is accepted once per user and time step (replays are refused): each user logs in once,
// with the next step's code (±1 step is accepted), so the two phases need many users.
const USERS = 2 * Math.ceil(Number(process.env.BENCH_2FA_USERS ?? 800) / 2)
const directory = mkdtempSync(path.join(tmpdir(), 'saasctl-bench-2fa-'))
const loadAverage = loadAverageWithWarning()

let daemon
try {
  daemon = await startDaemon({databaseUrl: path.join(directory, 'bench.db'), cwd: directory, env: {SAASCTL_MAX_SESSIONS_PER_USER: '1000'}})
  const base = daemon.base
  const users = await inParallel(Array.from({length: USERS}, (_, index) => index), 8, async (index) => {
    const email = `mfa-${index}@bench.example.com`
    const {access_token: token} = await requestJson(base, '/v1/auth/register', {method: 'POST', body: {email, password, name: `MFA ${index}`}})
    const {secret} = await requestJson(base, '/v1/auth/2fa/setup', {method: 'POST', token})
    await requestJson(base, '/v1/auth/2fa/enable', {method: 'POST', token, body: {password, code: await codeAt(secret, 0)}})
    return {email, secret}
  })

  // Phase 1 measures the daemon's CPU per login with nothing else running; phase 2 runs the same
  // logins (other users) with GET /health at 200 req/s beside them and reads its latencies.
  const alone = await runLogins(base, users.slice(0, USERS / 2))
  const [beside, health] = await Promise.all([runLogins(base, users.slice(USERS / 2)), loadWithLatencies({url: `${base}/health`, connections: 1, overallRate: 200, duration: SECONDS})])
  const refused = alone.refused + beside.refused
  const perCpuSecond = alone.completed / alone.cpuSeconds

  console.log(`\nsaas-ctl 2FA login bench — ${SECONDS}s per phase, ${CLIENTS} clients, ${USERS} users with TOTP, ${machineLine()}, load average ${loadAverage.toFixed(2)} at start, SQLite\n`)
  console.log('| measure | value | target |')
  console.log('|---|---|---|')
  console.log(`| logins with 2FA completed (phase 1) | ${alone.completed} in ${alone.elapsedSeconds.toFixed(1)} s (${(alone.completed / alone.elapsedSeconds).toFixed(1)}/s wall), daemon CPU ${alone.cpuSeconds.toFixed(2)} s | |`)
  console.log(`| logins per second of daemon CPU | ${perCpuSecond.toFixed(1)} | ≥ 30 ${perCpuSecond >= 30 ? 'met' : 'MISSED'} |`)
  console.log(`| GET /health p99 during logins (phase 2: ${beside.completed} logins, /health at 200 req/s) | ${health.p99.toFixed(1)} ms (p50 ${health.p50.toFixed(1)} ms, ${health.count} requests) | < 20 ms ${health.p99 < 20 ? 'met' : 'MISSED'} |`)
  if (refused > 0) {
    console.error(`\n${refused} code steps were refused`)
    process.exitCode = 1
  }
} finally {
  await daemon?.stop()
  rmSync(directory, {recursive: true, force: true})
}

/**
 * Logs `users` in (password step, then the code step) from CLIENTS clients until they are all
 * in or BENCH_SECONDS pass; the daemon's CPU time over the run.
 */
async function runLogins(base, users) {
  let completed = 0
  let refused = 0
  const deadline = Date.now() + SECONDS * 1000
  const cpuBefore = processCpuMs(daemon.pid)
  const startedAt = Date.now()
  await inParallel(Array.from({length: CLIENTS}, (_, index) => index), CLIENTS, async (client) => {
    for (let turn = client; Date.now() < deadline && turn < users.length; turn += CLIENTS) {
      const user = users[turn]
      const first = await requestJson(base, '/v1/auth/login', {method: 'POST', body: {email: user.email, password}})
      if (!first.mfa_required) throw new Error('the password step did not ask for the second factor')
      try {
        // enable used the code of its step: the next step's code is new, and within ±1 step.
        await requestJson(base, '/v1/auth/login/2fa', {method: 'POST', body: {mfa_token: first.mfa_token, code: await codeAt(user.secret, 1)}})
        completed++
      } catch {
        refused++
      }
    }
  })
  return {completed, refused, elapsedSeconds: (Date.now() - startedAt) / 1000, cpuSeconds: (processCpuMs(daemon.pid) - cpuBefore) / 1000}
}

/** The TOTP code of `secret` for the time step `offset` steps from now (an authenticator app). */
function codeAt(secret, offset) {
  return generate({secret, algorithm: 'sha1', digits: 6, period: 30, epoch: Math.floor(Date.now() / 1000) + offset * 30})
}

/** Runs `work` over `items`, at most `limit` at a time; the results in order. */
async function inParallel(items, limit, work) {
  const results = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({length: Math.min(limit, items.length)}, async () => {
      while (next < items.length) {
        const index = next++
        results[index] = await work(items[index])
      }
    }),
  )
  return results
}
