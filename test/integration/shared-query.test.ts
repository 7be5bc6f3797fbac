import {sql} from 'kysely'
import {afterAll, beforeAll, expect, it} from 'vitest'
import type {Database} from '../../src/db/database.js'
import {sharedQuery} from '../../src/db/prepared-query.js'
import type {Kysely} from 'kysely'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

// One statement compiled once, run on the database and inside transactions with other values
// each time (src/db/prepared-query.ts): the audit append and the org lookup rely on it.
const orgBySlug = sharedQuery(1, (db, slug: string) => (db as Kysely<Database>).selectFrom('organization').select(['slug', 'name']).where('slug', '=', slug).limit(sql.lit(1)))
const renameOrg = sharedQuery(2, (db, name: string, slug: string) => (db as Kysely<Database>).updateTable('organization').set({name}).where('slug', '=', slug))

describeEachDialect('sharedQuery', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
    await t.core.orgs.createOrg(OPERATOR, {name: 'Acme', slug: 'acme'})
    await t.core.orgs.createOrg(OPERATOR, {name: 'Globex', slug: 'globex'})
  })
  afterAll(async () => t?.close())

  it('runs with each call’s values, on the database and in a transaction, and reads what the transaction wrote', async () => {
    const db = t.core.database.db
    expect((await orgBySlug(db, 'acme')).rows).toEqual([{slug: 'acme', name: 'Acme'}])
    expect((await orgBySlug(db, 'globex')).rows).toEqual([{slug: 'globex', name: 'Globex'}])
    expect((await orgBySlug(db, 'initech')).rows).toEqual([])
    await db.transaction().execute(async (tx) => {
      const renamed = await renameOrg(tx, 'Acme Renamed', 'acme')
      expect(Number(renamed.numAffectedRows)).toBe(1)
      expect(Number((await renameOrg(tx, 'Nobody', 'initech')).numAffectedRows)).toBe(0)
      expect((await orgBySlug(tx, 'acme')).rows).toEqual([{slug: 'acme', name: 'Acme Renamed'}])
      expect((await orgBySlug(tx, 'globex')).rows).toEqual([{slug: 'globex', name: 'Globex'}])
    })
    expect((await orgBySlug(db, 'acme')).rows).toEqual([{slug: 'acme', name: 'Acme Renamed'}])
  })

  it('refuses a build that leaves a value out of the query (it would run with the marker in its place)', async () => {
    const unused = sharedQuery(2, (db, slug: string) => (db as Kysely<Database>).selectFrom('organization').select('slug').where('slug', '=', slug))
    await expect(unused(t.core.database.db, 'acme', 'ignored')).rejects.toThrow(/marker is not in the compiled query/)
  })
})
