import {afterAll, beforeAll, expect, it} from 'vitest'
import {parseDatabaseUrl} from '../../src/db/database-url.js'
import {openDatabase, type OpenedDatabase} from '../../src/db/open-database.js'
import {checkClock} from '../../src/doctor/clock-check.js'
import type {Clock} from '../../src/security/clock.js'
import {createTestDatabase, describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

/** The wall clock moved by `offsetMs`: this host running ahead (positive) or behind the database server. */
function offsetClock(offsetMs: number): Clock {
  return {now: () => new Date(Date.now() + offsetMs)}
}

describeEachDialect('doctor clock check', (dialect) => {
  let database: TestDatabase
  let opened: OpenedDatabase

  beforeAll(async () => {
    database = await createTestDatabase(dialect)
    opened = await openDatabase(parseDatabaseUrl(database.url, process.cwd()))
  })
  afterAll(async () => {
    await opened?.close()
    await database?.drop()
  })

  if (dialect === 'sqlite') {
    it('SQLite: n/a (ok) whatever this host says, the year aside', async () => {
      expect(await checkClock(opened.db, 'sqlite', offsetClock(3_600_000))).toMatchObject({status: 'ok', detail: expect.stringContaining('n/a on SQLite')})
    })
  } else {
    // The server here is this host: the offsets are the skew, give or take the round trip.
    it.each([
      [0, 'ok'],
      [20_000, 'warn'],
      [-20_000, 'warn'],
      [120_000, 'fail'],
      [-120_000, 'fail'],
    ])('Postgres: this host %d ms off the server → %s (select now())', async (offset, status) => {
      const result = await checkClock(opened.db, 'postgres', offsetClock(offset))
      expect(result).toMatchObject({check: 'clock', status})
      expect(result.detail).toMatch(/^database server [+-]\d+\.\d{3} s from this host/)
    })
  }
})
