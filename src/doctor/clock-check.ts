import {sql, type Kysely} from 'kysely'
import type {DialectName} from '../db/database-url.js'
import type {Clock} from '../security/clock.js'
import {checkResult, worstStatus, type CheckResult, type CheckStatus} from './doctor-check.js'

/** Beyond this, this host and the database server disagree enough to notice (token times, audit order). */
export const CLOCK_SKEW_WARN_MS = 5_000
/** Beyond this, tokens issued here look expired or not yet valid elsewhere, and timestamps lie. */
export const CLOCK_SKEW_FAIL_MS = 60_000
/** Years outside this range mean an unset or wildly wrong clock (this version was written in 2026). */
export const PLAUSIBLE_YEARS = {from: 2025, to: 2100} as const

/** ok up to 5 s of difference either way, warn up to 60 s, fail beyond (or when it is not a number). */
export function classifyClockSkew(skewMs: number): CheckStatus {
  if (!Number.isFinite(skewMs)) return 'fail'
  const distance = Math.abs(skewMs)
  if (distance > CLOCK_SKEW_FAIL_MS) return 'fail'
  if (distance > CLOCK_SKEW_WARN_MS) return 'warn'
  return 'ok'
}

export function isPlausibleYear(date: Date): boolean {
  const year = date.getUTCFullYear()
  return year >= PLAUSIBLE_YEARS.from && year <= PLAUSIBLE_YEARS.to
}

/** A signed difference in seconds for a detail line: `+0.012 s`, `-75.300 s`. */
export function formatSkew(skewMs: number): string {
  return `${skewMs < 0 ? '-' : '+'}${(Math.abs(skewMs) / 1000).toFixed(3)} s`
}

/**
 * Compares this host's clock with the database server's (Postgres `select now()`, against the
 * midpoint of the round trip), and warns about an implausible year. SQLite runs on this host's
 * own clock, so there is nothing to compare: only the year is checked.
 */
export async function checkClock(db: Kysely<any>, dialect: DialectName, clock: Clock): Promise<CheckResult> {
  const local = clock.now()
  const yearStatus: CheckStatus = isPlausibleYear(local) ? 'ok' : 'warn'
  const yearNote = yearStatus === 'ok' ? '' : `; the year ${local.getUTCFullYear()} is implausible: is this host's clock set?`
  if (dialect === 'sqlite') return checkResult('clock', yearStatus, `local time ${local.toISOString()}; server comparison n/a on SQLite (one host's clock)${yearNote}`)
  const before = clock.now().getTime()
  const {rows} = await sql<{now: string | Date}>`select now() as now`.execute(db)
  const after = clock.now().getTime()
  const serverTime = new Date(rows[0]!.now).getTime()
  const skew = serverTime - (before + after) / 2
  const status = worstStatus(classifyClockSkew(skew), yearStatus)
  return checkResult('clock', status, `database server ${formatSkew(skew)} from this host (round trip ${after - before} ms; warn beyond 5 s, fail beyond 60 s)${yearNote}`)
}
