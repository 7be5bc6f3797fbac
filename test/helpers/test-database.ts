import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {describe} from 'vitest'
import type {DialectName} from '../../src/db/database-url.js'
import {TEST_POSTGRES_URL} from './postgres-availability.js'

export interface TestDatabase {
  dialect: DialectName
  /** A database URL saas-ctl accepts (SQLite file path or postgres:// URL). */
  url: string
  drop(): Promise<void>
}

/** A fresh, empty database of the dialect: a temp SQLite file, or a new Postgres database. */
export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const directory = mkdtempSync(path.join(tmpdir(), 'saasctl-test-'))
    return {dialect, url: path.join(directory, 'test.db'), drop: async () => rmSync(directory, {recursive: true, force: true})}
  }
  if (!TEST_POSTGRES_URL) throw new Error('SAASCTL_TEST_POSTGRES_URL is not set')
  const name = `saasctl_test_${randomBytes(6).toString('hex')}`
  await runAdminQuery(`create database ${name}`)
  const url = new URL(TEST_POSTGRES_URL)
  url.pathname = `/${name}`
  return {dialect, url: url.toString(), drop: () => runAdminQuery(`drop database if exists ${name} with (force)`)}
}

async function runAdminQuery(statement: string): Promise<void> {
  const client = new pg.Client({connectionString: TEST_POSTGRES_URL})
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

/** The secret_key every test on Postgres runs with (required there; SQLite makes its own key file). */
export const TEST_SECRET_KEY = 'c2Fhcy1jdGwgdGVzdCBzZWNyZXQga2V5LCAzMiBieXQ='

/** SAASCTL_SECRET_KEY for a process on this database: set on Postgres, where it is required. */
export function secretKeyEnvFor(databaseUrl: string): Record<string, string> {
  return /^postgres(ql)?:/i.test(databaseUrl) ? {SAASCTL_SECRET_KEY: TEST_SECRET_KEY} : {}
}

/** The dialects this run covers: SQLite always, Postgres when its URL is set. */
export const TEST_DIALECTS: DialectName[] = TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite']

/**
 * Declares the same suite once per dialect. The Postgres copy is declared skipped (and so
 * reported) when SAASCTL_TEST_POSTGRES_URL is not set.
 */
export function describeEachDialect(name: string, suite: (dialect: DialectName) => void): void {
  describe(`${name} [sqlite]`, () => suite('sqlite'))
  const describePostgres = TEST_POSTGRES_URL ? describe : describe.skip
  describePostgres(`${name} [postgres]`, () => suite('postgres'))
}
