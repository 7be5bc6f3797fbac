import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {createTenancyFixtures} from './tenancy-fixtures.js'

describeEachDialect('org delete, restore and purge by principals', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())
  const {seedOrg, insertApiKey, countRows} = createTenancyFixtures(() => t)

  async function orgRevocations(orgId: string): Promise<string[]> {
    const rows = await t.core.database.db.selectFrom('revocation').select('reason').where('kind', '=', 'org').where('subject', '=', orgId).orderBy('seq').execute()
    return rows.map((row) => row.reason)
  }

  function countSignals(): () => number {
    let count = 0
    t.core.revocationSignal.subscribe(() => {
      count += 1
    })
    return () => count
  }

  describe('deleteOrg', () => {
    it('needs org.delete and a token bound to the org; writes nothing when refused', async () => {
      const {org, as, boundTo} = await seedOrg('del-refused', {owner: 'owner', admin: 'admin'})
      const other = await seedOrg('del-other', {owner: 'owner'})
      const before = await t.core.audit.latestSeq()
      await expect(t.core.orgs.deleteOrg(as('admin'), {org: org.slug})).rejects.toMatchObject({code: 'permission.denied'})
      await expect(t.core.orgs.deleteOrg(boundTo('owner', other.org.id), {org: org.slug})).rejects.toMatchObject({code: 'auth.org_mismatch'})
      await expect(t.core.orgs.deleteOrg(other.as('owner'), {org: org.slug})).rejects.toMatchObject({code: 'org.not_found'})
      expect(await t.core.audit.latestSeq()).toBe(before)
      expect(await orgRevocations(org.id)).toEqual([])
      expect((await t.core.orgs.showOrg(OPERATOR, {org: org.id})).deletedAt).toBeNull()
    })

    it("by an owner hides the org from its members (org.not_found) and voids the org's tokens at once", async () => {
      const {org, as} = await seedOrg('del-owner', {owner: 'owner', member: 'member'})
      const signals = countSignals()
      const deleted = await t.core.orgs.deleteOrg(as('owner'), {org: org.slug})
      expect(deleted.deletedAt).toBe(t.clock.now().toISOString())
      expect(await orgRevocations(org.id)).toEqual(['org_deleted'])
      expect(signals()).toBe(1)
      for (const name of ['owner', 'member']) {
        await expect(t.core.orgs.showOrg(as(name), {org: org.slug}), name).rejects.toMatchObject({code: 'org.not_found'})
        await expect(t.core.flags.evaluateFlagsForOrg(as(name), {org: org.slug}), name).rejects.toMatchObject({code: 'org.not_found'})
      }
      await expect(t.core.orgs.deleteOrg(as('owner'), {org: org.slug})).rejects.toMatchObject({code: 'org.not_found'})
      expect((await t.core.orgs.listOrgs(as('member'))).map((summary) => summary.slug)).toEqual([])
    })
  })

  describe('restoreOrg', () => {
    it('lets an owner restore with a token bound elsewhere or to none; other members and outsiders get org.not_found', async () => {
      const {org, as, boundTo} = await seedOrg('restore-me', {owner: 'owner', admin: 'admin'})
      const elsewhere = await seedOrg('restore-elsewhere', {owner: 'owner'})
      await t.core.orgs.deleteOrg(as('owner'), {org: org.slug})
      const before = await t.core.audit.latestSeq()
      await expect(t.core.orgs.restoreOrg(as('admin'), {org: org.slug})).rejects.toMatchObject({code: 'org.not_found'})
      await expect(t.core.orgs.restoreOrg(elsewhere.as('owner'), {org: org.slug})).rejects.toMatchObject({code: 'org.not_found'})
      expect(await t.core.audit.latestSeq()).toBe(before)

      const restored = await t.core.orgs.restoreOrg(boundTo('owner', elsewhere.org.id), {org: org.slug})
      expect(restored.deletedAt).toBeNull()
      expect(await t.core.orgs.showOrg(as('admin'), {org: org.slug})).toMatchObject({deletedAt: null})
      await expect(t.core.orgs.restoreOrg(boundTo('owner', null), {org: org.id})).rejects.toMatchObject({code: 'org.not_deleted'})
      // A live org: a member who is not an owner may not restore (nothing to restore, but the answer is the permission).
      await expect(t.core.orgs.restoreOrg(as('admin'), {org: org.slug})).rejects.toMatchObject({code: 'permission.denied'})

      await t.core.orgs.deleteOrg(as('owner'), {org: org.slug})
      expect((await t.core.orgs.restoreOrg(boundTo('owner', null), {org: org.slug})).deletedAt).toBeNull()
      const key = await insertApiKey(null, [])
      await t.core.orgs.deleteOrg(OPERATOR, {org: org.slug})
      expect((await t.core.orgs.restoreOrg(key, {org: org.slug})).deletedAt).toBeNull()
    })
  })

  describe('purgeOrg', () => {
    it('is for platform principals only: an owner, an org key get platform.required and nothing is removed', async () => {
      const {org, as} = await seedOrg('purge-refused', {owner: 'owner'})
      const key = await insertApiKey(org.id, ['org.delete', 'org.read'])
      for (const actor of [as('owner'), key]) {
        await expect(t.core.orgs.purgeOrg(actor, {org: org.slug})).rejects.toMatchObject({code: 'platform.required'})
      }
      expect(await countRows('membership', org.id)).toBe(1)
    })

    it("runs every registered purge hook in the purge's transaction, keeps the audit events, and voids the org's tokens", async () => {
      const {org, users} = await seedOrg('purge-hooks', {owner: 'owner', auditor: 'viewer'})
      await t.core.roles.createRole(OPERATOR, {org: org.slug, key: 'auditor', name: 'Auditor', permissions: ['audit.read']})
      await t.core.members.setMemberRole(OPERATOR, {org: org.slug, user: users.auditor!.id, role: 'auditor'})
      await t.core.flags.createFlag(OPERATOR, {key: 'purge-hooks-flag'})
      await t.core.flags.setOverride(OPERATOR, {key: 'purge-hooks-flag', org: org.slug, value: 'on'})
      // Another feature's hook, registered the way features register theirs.
      const seen: string[] = []
      t.core.purgeHooks.register({
        name: 'testFeature',
        async purgeOrg(tx, orgId) {
          // Inside the purge's transaction: the org row is still there.
          const row = await tx.selectFrom('organization').select('slug').where('id', '=', orgId).executeTakeFirst()
          seen.push(`${orgId}:${row?.slug}`)
          return 7
        },
      })
      const eventsBefore = await t.core.audit.listEvents({orgId: org.id}, 100)
      expect(eventsBefore.length).toBeGreaterThan(0)

      const {removed} = await t.core.orgs.purgeOrg(OPERATOR, {org: org.slug})
      expect(seen).toEqual([`${org.id}:purge-hooks`])
      expect(removed).toMatchObject({memberships: 2, customRoles: 1, flagOverrides: 1, testFeature: 7})
      for (const table of ['membership', 'role', 'flag_override'] as const) expect(await countRows(table, org.id), table).toBe(0)
      const eventsAfter = await t.core.audit.listEvents({orgId: org.id}, 100)
      expect(eventsAfter.slice(0, -1)).toEqual(eventsBefore)
      expect(eventsAfter.at(-1)).toMatchObject({action: 'org.purged', metadata: {removed}})
      expect(await orgRevocations(org.id)).toEqual(['org_purged'])
      expect(await t.core.audit.verifyChain()).toMatchObject({isIntact: true})
    })

    it('rolls back every hook when one fails', async () => {
      const {org} = await seedOrg('purge-fails', {owner: 'owner', viewer: 'viewer'})
      t.core.purgeHooks.register({
        name: 'failing',
        async purgeOrg(_tx, orgId) {
          if (orgId === org.id) throw new Error('hook failed')
          return 0
        },
      })
      const before = await t.core.audit.latestSeq()
      await expect(t.core.orgs.purgeOrg(OPERATOR, {org: org.slug})).rejects.toThrow('hook failed')
      expect(await countRows('membership', org.id)).toBe(2)
      expect(await t.core.audit.latestSeq()).toBe(before)
      expect(await orgRevocations(org.id)).toEqual([])
    })
  })
})
