import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {IS_CI, TEST_POSTGRES_URL} from './postgres-availability.js'

/** Runs once before every suite; what it returns runs after the last. */
export default async function setup(): Promise<() => void> {
  const removeCodeCache = useCodeCacheOfTheRun()
  await checkPostgres()
  return removeCodeCache
}

/**
 * Every CLI process the tests start keeps its V8 code cache (commands/lib/code-cache.ts) in a
 * directory of this run, removed at the end: never the developer's ~/.cache, whose state (or a
 * damaged file) must not change a test, and which tests must not fill.
 */
function useCodeCacheOfTheRun(): () => void {
  const directory = mkdtempSync(path.join(tmpdir(), 'saasctl-test-xdg-cache-'))
  process.env.XDG_CACHE_HOME = directory
  return () => rmSync(directory, {recursive: true, force: true})
}

/**
 * Without SAASCTL_TEST_POSTGRES_URL the Postgres suites are skipped with a visible line, except
 * under CI=true, where a missing or unreachable Postgres fails the run instead of passing quietly
 * on SQLite alone.
 */
async function checkPostgres(): Promise<void> {
  if (!TEST_POSTGRES_URL) {
    if (IS_CI) throw new Error('CI=true but SAASCTL_TEST_POSTGRES_URL is not set: the Postgres suites must run in CI')
    console.warn('\n[saas-ctl tests] SKIPPING the Postgres suites: SAASCTL_TEST_POSTGRES_URL is not set\n')
    return
  }
  const client = new pg.Client({connectionString: TEST_POSTGRES_URL})
  try {
    await client.connect()
    await client.query('select 1')
    console.warn(`\n[saas-ctl tests] Postgres suites RUN against ${new URL(TEST_POSTGRES_URL).host}\n`)
  } catch (error) {
    throw new Error(`SAASCTL_TEST_POSTGRES_URL is set but Postgres is unreachable: ${(error as Error).message}`)
  } finally {
    await client.end().catch(() => {})
  }
}
