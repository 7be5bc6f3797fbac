import {afterAll, beforeAll, expect, it} from 'vitest'
import {translateDatabaseError} from '../../src/db/database-errors.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

// A change that refers to a row a concurrent change just deleted (a role deleted while a key or
// membership is given it) fails on the foreign key: the faces answer 409 db.conflict, not 500.
describeEachDialect('database errors', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  it('a foreign-key violation of the driver is db.conflict', async () => {
    const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'FK', slug: 'fk'})
    const {user} = await t.core.users.createUser(OPERATOR, {email: 'fk@example.com'})
    // What the losing side of the race runs into, produced directly: a membership whose role is gone.
    const failure = await t.core.database.db
      .insertInto('membership')
      .values({id: 'fk-membership', org_id: org.id, user_id: user.id, role_id: 'a-role-deleted-meanwhile', created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z'})
      .execute()
      .then(() => null, (error: unknown) => error)
    expect(failure).not.toBeNull()
    expect(translateDatabaseError(failure)).toMatchObject({code: 'db.conflict', category: 'conflict'})
  })

  it('other constraint errors stay internal', () => {
    expect(translateDatabaseError(Object.assign(new Error('unique'), {code: '23505'}))).toBeNull()
  })
})
