import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

describeEachDialect('org service', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  let counter = 0
  /** A fresh, active user with a unique email. */
  async function newUser(prefix = 'user') {
    counter += 1
    const {user} = await t.core.users.createUser(OPERATOR, {email: `${prefix}-${counter}@example.com`, name: `${prefix} ${counter}`})
    return user
  }

  /**
   * The counts a purge must report: exactly `expected` for these hooks, and 0 for any other
   * feature's hook (API keys…), which has nothing of these orgs to remove.
   */
  function withOtherHooksAtZero(removed: Record<string, number>, expected: Record<string, number>): Record<string, number> {
    return {...Object.fromEntries(Object.keys(removed).map((name) => [name, 0])), ...expected}
  }

  async function countOrgRows(slug: string): Promise<number> {
    const rows = await t.core.database.db.selectFrom('organization').select('id').where('slug', '=', slug).execute()
    return rows.length
  }

  describe('createOrg', () => {
    it('derives the slug from the name when none is given', async () => {
      const {org, created} = await t.core.orgs.createOrg(OPERATOR, {name: 'Globex Corporation'})
      expect(created).toBe(true)
      expect(org).toMatchObject({slug: 'globex-corporation', name: 'Globex Corporation', tier: 'free', deletedAt: null})
      expect(await t.core.orgs.showOrg(OPERATOR, {org: 'globex-corporation'})).toMatchObject({id: org.id, memberCount: 0})
    })

    it('derives a slug from punctuation and accents', async () => {
      const {org} = await t.core.orgs.createOrg(OPERATOR, {name: '  Café Münster, Inc.  '})
      expect(org.slug).toBe('cafe-munster-inc')
      expect(org.name).toBe('Café Münster, Inc.')
    })

    it('uses the given slug and tier', async () => {
      const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Initech', slug: 'initech-hq', tier: 'premium'})
      expect(org).toMatchObject({slug: 'initech-hq', name: 'Initech', tier: 'premium'})
      expect((await t.core.orgs.showOrg(OPERATOR, {org: org.id})).slug).toBe('initech-hq')
    })

    it('lowercases an uppercase slug', async () => {
      const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Upper', slug: 'UPPER-Case'})
      expect(org.slug).toBe('upper-case')
    })

    it.each([
      ['too short', 'a'],
      ['too long', 'a'.repeat(64)],
      ['leading hyphen', '-acme'],
      ['trailing hyphen', 'acme-'],
      ['inner space', 'acme corp'],
      ['underscore', 'acme_corp'],
      ['empty', ''],
    ])('refuses an invalid slug (%s) and writes nothing', async (_label, slug) => {
      const before = await t.core.audit.latestSeq()
      const orgsBefore = (await t.core.orgs.listOrgs(OPERATOR, {includeDeleted: true})).length
      await expect(t.core.orgs.createOrg(OPERATOR, {name: 'Bad Slug Org', slug})).rejects.toMatchObject({code: 'validation.failed'})
      expect((await t.core.orgs.listOrgs(OPERATOR, {includeDeleted: true})).length).toBe(orgsBefore)
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('accepts a slug of exactly 63 characters', async () => {
      const slug = `a${'b'.repeat(61)}c`
      const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Long Slug Org', slug})
      expect(org.slug).toBe(slug)
    })

    it('refuses a name that yields no valid slug', async () => {
      await expect(t.core.orgs.createOrg(OPERATOR, {name: '!!!'})).rejects.toMatchObject({code: 'validation.failed'})
    })

    it('refuses an empty name', async () => {
      await expect(t.core.orgs.createOrg(OPERATOR, {name: '   ', slug: 'empty-name'})).rejects.toMatchObject({code: 'validation.failed'})
      expect(await countOrgRows('empty-name')).toBe(0)
    })

    it('refuses an unknown tier', async () => {
      await expect(t.core.orgs.createOrg(OPERATOR, {name: 'Tiered', slug: 'tiered', tier: 'platinum' as never})).rejects.toMatchObject({code: 'validation.failed'})
      expect(await countOrgRows('tiered')).toBe(0)
    })

    it('refuses a duplicate slug with org.slug_taken', async () => {
      await t.core.orgs.createOrg(OPERATOR, {name: 'Dup One', slug: 'dup'})
      const before = await t.core.audit.latestSeq()
      await expect(t.core.orgs.createOrg(OPERATOR, {name: 'Dup Two', slug: 'dup'})).rejects.toMatchObject({code: 'org.slug_taken'})
      await expect(t.core.orgs.createOrg(OPERATOR, {name: 'Dup One', slug: 'DUP'})).rejects.toMatchObject({code: 'org.slug_taken'})
      expect(await countOrgRows('dup')).toBe(1)
      expect((await t.core.orgs.showOrg(OPERATOR, {org: 'dup'})).name).toBe('Dup One')
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('refuses a duplicate derived slug', async () => {
      await t.core.orgs.createOrg(OPERATOR, {name: 'Same Name'})
      await expect(t.core.orgs.createOrg(OPERATOR, {name: 'same name'})).rejects.toMatchObject({code: 'org.slug_taken'})
      expect(await countOrgRows('same-name')).toBe(1)
    })

    it('with ifNotExists returns the existing organization (created false) and writes nothing', async () => {
      const first = await t.core.orgs.createOrg(OPERATOR, {name: 'Idempotent', slug: 'idem'})
      const before = await t.core.audit.latestSeq()
      const again = await t.core.orgs.createOrg(OPERATOR, {name: 'Idempotent', slug: 'idem', ifNotExists: true})
      expect(again.created).toBe(false)
      expect(again.org).toEqual(first.org)
      expect(await countOrgRows('idem')).toBe(1)
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('with ifNotExists still conflicts when the name differs', async () => {
      await t.core.orgs.createOrg(OPERATOR, {name: 'Original', slug: 'orig'})
      await expect(t.core.orgs.createOrg(OPERATOR, {name: 'Impostor', slug: 'orig', ifNotExists: true})).rejects.toMatchObject({code: 'org.slug_taken'})
      expect((await t.core.orgs.showOrg(OPERATOR, {org: 'orig'})).name).toBe('Original')
    })

    it('with ifNotExists conflicts when the slug belongs to a deleted organization', async () => {
      await t.core.orgs.createOrg(OPERATOR, {name: 'Gone', slug: 'gone'})
      await t.core.orgs.deleteOrg(OPERATOR, {org: 'gone'})
      await expect(t.core.orgs.createOrg(OPERATOR, {name: 'Gone', slug: 'gone', ifNotExists: true})).rejects.toMatchObject({code: 'org.slug_taken'})
    })

    it('with owner makes the user owner and audits org.created then member.added', async () => {
      const owner = await newUser('owner')
      const before = await t.core.audit.latestSeq()
      const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Owned', slug: 'owned', owner: owner.email.toUpperCase()})
      const members = (await t.core.members.listMembers(OPERATOR, {org: 'owned'})).items
      expect(members.map((member) => [member.userId, member.role])).toEqual([[owner.id, 'owner']])
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events.map((event) => [event.action, event.orgId, event.target])).toEqual([
        ['org.created', org.id, {type: 'org', id: org.id}],
        ['member.added', org.id, {type: 'user', id: owner.id}],
      ])
      expect((await t.core.users.showUser(OPERATOR, {user: owner.id})).memberships).toEqual([{orgId: org.id, orgSlug: 'owned', orgName: 'Owned', role: 'owner'}])
    })

    it('with an unknown owner writes nothing: no organization, no audit event', async () => {
      const before = await t.core.audit.latestSeq()
      await expect(t.core.orgs.createOrg(OPERATOR, {name: 'Orphan', slug: 'orphan', owner: 'nobody@example.com'})).rejects.toMatchObject({code: 'user.not_found'})
      expect(await countOrgRows('orphan')).toBe(0)
      await expect(t.core.orgs.showOrg(OPERATOR, {org: 'orphan'})).rejects.toMatchObject({code: 'org.not_found'})
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('with a disabled owner writes nothing: no organization, no audit event', async () => {
      const owner = await newUser('disabled-owner')
      await t.core.users.disableUser(OPERATOR, {user: owner.id})
      const before = await t.core.audit.latestSeq()
      await expect(t.core.orgs.createOrg(OPERATOR, {name: 'Disabled Owned', slug: 'disabled-owned', owner: owner.email})).rejects.toMatchObject({code: 'user.disabled'})
      expect(await countOrgRows('disabled-owned')).toBe(0)
      const memberships = await t.core.database.db.selectFrom('membership').select('id').where('user_id', '=', owner.id).execute()
      expect(memberships).toEqual([])
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('joins the caller\'s transaction, so a caller that aborts leaves no organization and no event', async () => {
      const owner = await newUser('rollback')
      const before = await t.core.audit.latestSeq()
      await expect(
        t.core.database.db.transaction().execute(async (trx) => {
          await t.core.orgs.createOrg(OPERATOR, {name: 'Rolled Back', slug: 'rolled-back', owner: owner.id}, trx)
          throw new Error('caller aborts')
        }),
      ).rejects.toThrow('caller aborts')
      expect(await countOrgRows('rolled-back')).toBe(0)
      expect(await t.core.audit.latestSeq()).toBe(before)
      expect((await t.core.users.showUser(OPERATOR, {user: owner.id})).memberships).toEqual([])
    })
  })

  describe('concurrency and references', () => {
    it('of two concurrent creates of one slug, one succeeds and the other gets org.slug_taken', async () => {
      const results = await Promise.allSettled([
        t.core.orgs.createOrg(OPERATOR, {name: 'Race One', slug: 'race'}),
        t.core.orgs.createOrg(OPERATOR, {name: 'Race Two', slug: 'race'}),
      ])
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      expect(results.find((result) => result.status === 'rejected')?.reason).toMatchObject({code: 'org.slug_taken'})
      expect(await countOrgRows('race')).toBe(1)
      expect((await t.core.audit.listEvents({action: 'org.created'}, 1000)).filter((event) => event.metadata.slug === 'race')).toHaveLength(1)
    })

    it('resolves every organization by its own slug and its own id, even when a slug looks like another org\'s id', async () => {
      const {org: victim} = await t.core.orgs.createOrg(OPERATOR, {name: 'Victim', slug: 'victim'})
      // A UUID is a well-formed slug; whether creation is refused or allowed, no reference may become ambiguous.
      await t.core.orgs.createOrg(OPERATOR, {name: 'Lookalike', slug: victim.id}).catch(() => undefined)
      for (const org of await t.core.orgs.listOrgs(OPERATOR, {includeDeleted: true})) {
        expect((await t.core.orgs.showOrg(OPERATOR, {org: org.slug})).id, `slug ${org.slug}`).toBe(org.id)
        expect((await t.core.orgs.showOrg(OPERATOR, {org: org.id})).id, `id ${org.id}`).toBe(org.id)
      }
    })
  })

  describe('listOrgs and showOrg', () => {
    it('counts members and hides deleted organizations unless asked', async () => {
      const a = await newUser('list-a')
      const b = await newUser('list-b')
      const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Listed', slug: 'listed', owner: a.id})
      await t.core.members.addMember(OPERATOR, {org: 'listed', user: b.id, role: 'member'})
      await t.core.orgs.createOrg(OPERATOR, {name: 'Hidden', slug: 'hidden'})
      await t.core.orgs.deleteOrg(OPERATOR, {org: 'hidden'})
      const live = await t.core.orgs.listOrgs(OPERATOR)
      expect(live.find((summary) => summary.slug === 'listed')).toMatchObject({id: org.id, memberCount: 2})
      expect(live.some((summary) => summary.slug === 'hidden')).toBe(false)
      const all = await t.core.orgs.listOrgs(OPERATOR, {includeDeleted: true})
      expect(all.find((summary) => summary.slug === 'hidden')?.deletedAt).not.toBeNull()
      expect(await t.core.orgs.showOrg(OPERATOR, {org: 'hidden'})).toMatchObject({slug: 'hidden', memberCount: 0})
    })

    it('raises org.not_found for an unknown reference', async () => {
      await expect(t.core.orgs.showOrg(OPERATOR, {org: 'no-such-org'})).rejects.toMatchObject({code: 'org.not_found'})
    })
  })

  describe('updateOrg', () => {
    it('renames and changes the tier, auditing the changes', async () => {
      const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Before', slug: 'upd'})
      t.clock.advance(1000)
      const before = await t.core.audit.latestSeq()
      const updated = await t.core.orgs.updateOrg(OPERATOR, {org: 'upd', name: 'After', tier: 'enterprise'})
      expect(updated).toMatchObject({id: org.id, slug: 'upd', name: 'After', tier: 'enterprise'})
      expect(updated.updatedAt > org.updatedAt).toBe(true)
      expect(await t.core.orgs.showOrg(OPERATOR, {org: 'upd'})).toMatchObject({name: 'After', tier: 'enterprise'})
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({
        action: 'org.updated',
        orgId: org.id,
        target: {type: 'org', id: org.id},
        metadata: {changes: {name: {from: 'Before', to: 'After'}, tier: {from: 'free', to: 'enterprise'}}},
      })
    })

    it('writes no event when nothing changes', async () => {
      await t.core.orgs.createOrg(OPERATOR, {name: 'Stable', slug: 'stable'})
      const before = await t.core.audit.latestSeq()
      await t.core.orgs.updateOrg(OPERATOR, {org: 'stable', name: 'Stable'})
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('refuses an empty update and an unknown organization', async () => {
      await t.core.orgs.createOrg(OPERATOR, {name: 'Empty Update', slug: 'empty-update'})
      await expect(t.core.orgs.updateOrg(OPERATOR, {org: 'empty-update'})).rejects.toMatchObject({code: 'validation.failed'})
      await expect(t.core.orgs.updateOrg(OPERATOR, {org: 'no-such-org', name: 'X'})).rejects.toMatchObject({code: 'org.not_found'})
    })
  })

  describe('delete, restore, purge', () => {
    it('soft-deletes, refuses changes with org.deleted, and restores', async () => {
      const owner = await newUser('soft')
      const other = await newUser('soft-other')
      const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Soft', slug: 'soft', owner: owner.id})
      await t.core.flags.createFlag(OPERATOR, {key: 'soft-flag'})
      t.clock.advance(1000)
      const deleted = await t.core.orgs.deleteOrg(OPERATOR, {org: 'soft'})
      expect(deleted.deletedAt).toBe(t.clock.now().toISOString())
      expect((await t.core.orgs.showOrg(OPERATOR, {org: 'soft'})).deletedAt).toBe(deleted.deletedAt)
      // Data stays while deleted.
      expect((await t.core.members.listMembers(OPERATOR, {org: 'soft'})).items.map((member) => member.userId)).toEqual([owner.id])

      const before = await t.core.audit.latestSeq()
      const refusals: [string, () => Promise<unknown>][] = [
        ['updateOrg', () => t.core.orgs.updateOrg(OPERATOR, {org: 'soft', name: 'Nope'})],
        ['deleteOrg', () => t.core.orgs.deleteOrg(OPERATOR, {org: 'soft'})],
        ['addMember', () => t.core.members.addMember(OPERATOR, {org: 'soft', user: other.id, role: 'member'})],
        ['setMemberRole', () => t.core.members.setMemberRole(OPERATOR, {org: 'soft', user: owner.id, role: 'admin'})],
        ['removeMember', () => t.core.members.removeMember(OPERATOR, {org: 'soft', user: owner.id})],
        ['createRole', () => t.core.roles.createRole(OPERATOR, {org: 'soft', key: 'auditor', name: 'Auditor', permissions: ['audit.read']})],
        ['setOverride', () => t.core.flags.setOverride(OPERATOR, {key: 'soft-flag', org: 'soft', value: 'on'})],
      ]
      for (const [name, attempt] of refusals) {
        await expect(attempt(), name).rejects.toMatchObject({code: 'org.deleted'})
      }
      expect(await t.core.audit.latestSeq()).toBe(before)
      expect(await t.core.orgs.showOrg(OPERATOR, {org: 'soft'})).toMatchObject({name: 'Soft', memberCount: 1})

      const restored = await t.core.orgs.restoreOrg(OPERATOR, {org: 'soft'})
      expect(restored.deletedAt).toBeNull()
      expect((await t.core.orgs.showOrg(OPERATOR, {org: org.id})).deletedAt).toBeNull()
      expect((await t.core.orgs.updateOrg(OPERATOR, {org: 'soft', name: 'Soft Again'})).name).toBe('Soft Again')
      const actions = (await t.core.audit.listEvents({orgId: org.id}, 100)).map((event) => event.action)
      expect(actions).toEqual(['org.created', 'member.added', 'org.deleted', 'org.restored', 'org.updated'])
    })

    it('refuses to restore an organization that is not deleted', async () => {
      await t.core.orgs.createOrg(OPERATOR, {name: 'Alive', slug: 'alive'})
      await expect(t.core.orgs.restoreOrg(OPERATOR, {org: 'alive'})).rejects.toMatchObject({code: 'org.not_deleted'})
      await expect(t.core.orgs.restoreOrg(OPERATOR, {org: 'never-existed'})).rejects.toMatchObject({code: 'org.not_found'})
    })

    it('purges memberships, custom roles and overrides, and keeps the audit events', async () => {
      const owner = await newUser('purge-owner')
      const member = await newUser('purge-member')
      const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Purged', slug: 'purged', owner: owner.id})
      const role = await t.core.roles.createRole(OPERATOR, {org: 'purged', key: 'auditor', name: 'Auditor', permissions: ['audit.read', 'org.read']})
      await t.core.members.addMember(OPERATOR, {org: 'purged', user: member.id, role: 'auditor'})
      await t.core.flags.createFlag(OPERATOR, {key: 'purge-flag'})
      await t.core.flags.setOverride(OPERATOR, {key: 'purge-flag', org: 'purged', value: 'on'})
      // A neighbour that must be untouched.
      const {org: neighbour} = await t.core.orgs.createOrg(OPERATOR, {name: 'Neighbour', slug: 'neighbour', owner: owner.id})
      await t.core.roles.createRole(OPERATOR, {org: 'neighbour', key: 'auditor', name: 'Auditor', permissions: ['audit.read']})
      await t.core.flags.setOverride(OPERATOR, {key: 'purge-flag', org: 'neighbour', value: 'off'})
      await t.core.orgs.deleteOrg(OPERATOR, {org: 'purged'})
      const eventsBefore = await t.core.audit.listEvents({orgId: org.id}, 100)

      const result = await t.core.orgs.purgeOrg(OPERATOR, {org: 'purged'})
      expect(result.removed).toEqual(withOtherHooksAtZero(result.removed, {memberships: 2, customRoles: 1, flagOverrides: 1}))

      const db = t.core.database.db
      expect(await db.selectFrom('organization').select('id').where('id', '=', org.id).execute()).toEqual([])
      expect(await db.selectFrom('membership').select('id').where('org_id', '=', org.id).execute()).toEqual([])
      expect(await db.selectFrom('role').select('id').where('org_id', '=', org.id).execute()).toEqual([])
      expect(await db.selectFrom('role_permission').select('permission_key').where('role_id', '=', role.id).execute()).toEqual([])
      expect(await db.selectFrom('flag_override').select('flag_id').where('org_id', '=', org.id).execute()).toEqual([])
      await expect(t.core.orgs.showOrg(OPERATOR, {org: org.id})).rejects.toMatchObject({code: 'org.not_found'})
      // Users survive; only their membership in the purged org is gone.
      expect((await t.core.users.showUser(OPERATOR, {user: member.id})).memberships).toEqual([])
      expect((await t.core.users.showUser(OPERATOR, {user: owner.id})).memberships.map((membership) => membership.orgSlug)).toEqual(['neighbour'])

      const eventsAfter = await t.core.audit.listEvents({orgId: org.id}, 100)
      expect(eventsAfter.slice(0, -1)).toEqual(eventsBefore)
      expect(eventsAfter.at(-1)).toMatchObject({action: 'org.purged', orgId: org.id, target: {type: 'org', id: org.id}, metadata: {slug: 'purged', removed: result.removed}})
      expect(await t.core.audit.verifyChain()).toMatchObject({isIntact: true})

      // The neighbour keeps everything.
      expect(await t.core.orgs.showOrg(OPERATOR, {org: neighbour.id})).toMatchObject({memberCount: 1})
      expect((await t.core.roles.listRoles(OPERATOR, {org: 'neighbour'})).some((r) => r.key === 'auditor')).toBe(true)
      expect((await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: 'neighbour', key: 'purge-flag'})).reason).toBe('override')
      // The slug is free again.
      expect((await t.core.orgs.createOrg(OPERATOR, {name: 'Purged', slug: 'purged'})).created).toBe(true)
    })

    it('purges a live organization too, and raises org.not_found for an unknown one', async () => {
      await t.core.orgs.createOrg(OPERATOR, {name: 'Live Purge', slug: 'live-purge'})
      const {removed} = await t.core.orgs.purgeOrg(OPERATOR, {org: 'live-purge'})
      expect(removed).toEqual(withOtherHooksAtZero(removed, {memberships: 0, customRoles: 0, flagOverrides: 0}))
      await expect(t.core.orgs.purgeOrg(OPERATOR, {org: 'live-purge'})).rejects.toMatchObject({code: 'org.not_found'})
    })
  })
})
