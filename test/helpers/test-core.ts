import {operatorActor} from '../../src/access/principal.js'
import {loadConfig} from '../../src/config/load-config.js'
import type {Config, SettingName} from '../../src/config/settings.js'
import {createCore, type Core} from '../../src/core.js'
import type {DialectName} from '../../src/db/database-url.js'
import {createFixedClock, type FixedClock} from '../../src/security/clock.js'
import {createPasswordHasher} from '../../src/security/password-hasher.js'
import {createTestDatabase, TEST_SECRET_KEY, type TestDatabase} from './test-database.js'

/**
 * Suites send many requests from 127.0.0.1 to one org: no request budget applies unless a test
 * sets one (the rate limit tests do).
 */
export const UNLIMITED_REQUEST_RATES = {
  tierRpm: 'free=unlimited,basic=unlimited,premium=unlimited,enterprise=unlimited',
  rateLimitAuthRpm: 0,
  rateLimitPublicRpm: 0,
} as const satisfies Partial<Record<SettingName, unknown>>

/** The default configuration on a test database (no config file, no environment), without request budgets. */
export function testConfig(databaseUrl: string, overrides: Partial<Record<SettingName, unknown>> = {}): Config {
  const secretKey = /^postgres(ql)?:/i.test(databaseUrl) ? TEST_SECRET_KEY : undefined
  return loadConfig({flags: {databaseUrl, secretKey, ...UNLIMITED_REQUEST_RATES, ...overrides}, env: {}, cwd: process.cwd()}).config
}

export interface TestCore {
  core: Core
  clock: FixedClock
  database: TestDatabase
  close(): Promise<void>
}

/** Small argon2 parameters: tests check behaviour, not hashing cost. */
export const FAST_PASSWORD_HASHER = createPasswordHasher({memoryCost: 1024, timeCost: 1, parallelism: 1})

export const OPERATOR = operatorActor('test-operator')

/** A core on a fresh, migrated database of the dialect, with a fixed clock (and these settings, when given). */
export async function createTestCore(dialect: DialectName, settings: Partial<Record<SettingName, unknown>> = {}): Promise<TestCore> {
  const database = await createTestDatabase(dialect)
  const clock = createFixedClock(new Date('2026-01-01T00:00:00.000Z'))
  const core = await createCore({config: testConfig(database.url, settings), cwd: process.cwd(), clock, passwords: FAST_PASSWORD_HASHER, schema: 'migrate'})
  return {
    core,
    clock,
    database,
    async close() {
      await core.close()
      await database.drop()
    },
  }
}
