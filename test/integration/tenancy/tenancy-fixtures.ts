import type {Actor} from '../../../src/access/principal.js'
import {createOrgFixtures} from '../../helpers/org-fixtures.js'
import type {TestCore} from '../../helpers/test-core.js'

export type {SeededOrg} from '../../helpers/org-fixtures.js'

/** The org fixtures, plus API key rows and row counts for the tenancy tests. */
export function createTenancyFixtures(t: () => TestCore) {
  const {newUser, actorOf, seedOrg, nextNumber} = createOrgFixtures(t)

  /** An API key row of `orgId` (null: a platform key) with a permission list, and its actor. */
  async function insertApiKey(orgId: string | null, permissions: string[]): Promise<Actor> {
    const counter = nextNumber()
    const id = `00000000-0000-7000-8000-${String(counter).padStart(12, '0')}`
    await t()
      .core.database.db.insertInto('api_key')
      .values({id, org_id: orgId, name: `key-${counter}`, prefix: 'sk_test', secret_hash: `hash-${id}`, role_id: null, permissions: JSON.stringify(permissions), created_by_type: 'cli', created_by_id: null, created_at: t().clock.now().toISOString(), expires_at: null, last_used_at: null, revoked_at: null})
      .execute()
    return {principal: {kind: 'api_key', keyId: id, name: `key-${counter}`, orgId}, origin: {}}
  }

  /** How many rows of `table` point at the org. */
  async function countRows(table: 'membership' | 'role' | 'flag_override' | 'audit_event', orgId: string): Promise<number> {
    const rows = await t().core.database.db.selectFrom(table).select('org_id').where('org_id', '=', orgId).execute()
    return rows.length
  }

  return {newUser, actorOf, seedOrg, insertApiKey, countRows}
}
