import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

describeEachDialect('member service', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  let counter = 0
  async function newUser(prefix: string) {
    counter += 1
    const {user} = await t.core.users.createUser(OPERATOR, {email: `${prefix}-${counter}@example.com`, name: `${prefix} ${counter}`})
    return user
  }

  /** A fresh organization owned by a fresh user. */
  async function newOrg(slug: string) {
    const owner = await newUser(`${slug}-owner`)
    const {org} = await t.core.orgs.createOrg(OPERATOR, {name: slug, slug, owner: owner.id})
    return {org, owner}
  }

  async function roleTable(slug: string) {
    return (await t.core.members.listMembers(OPERATOR, {org: slug})).items.map((member) => [member.email, member.role])
  }

  describe('addMember and listMembers', () => {
    it('adds members with roles, lists them and audits member.added', async () => {
      const {org, owner} = await newOrg('add')
      const ann = await newUser('ann')
      const before = await t.core.audit.latestSeq()
      const added = await t.core.members.addMember(OPERATOR, {org: 'add', user: ann.email.toUpperCase(), role: 'admin'})
      expect(added).toMatchObject({userId: ann.id, email: ann.email, role: 'admin', status: 'active'})
      t.clock.advance(1000)
      const bob = await newUser('bob')
      await t.core.members.addMember(OPERATOR, {org: org.id, user: bob.id, role: 'viewer'})
      // Ordered by join time, then user id: the owner and ann joined at the same instant, the owner's account first.
      expect(await roleTable('add')).toEqual([
        [owner.email, 'owner'],
        [ann.email, 'admin'],
        [bob.email, 'viewer'],
      ])
      const events = await t.core.audit.listEventsAfter({afterSeq: before, action: 'member.added'})
      expect(events.map((event) => [event.orgId, event.target, event.metadata])).toEqual([
        [org.id, {type: 'user', id: ann.id}, {email: ann.email, role: 'admin'}],
        [org.id, {type: 'user', id: bob.id}, {email: bob.email, role: 'viewer'}],
      ])
      expect((await t.core.orgs.showOrg(OPERATOR, {org: 'add'})).memberCount).toBe(3)
    })

    it('refuses a second membership with member.exists and writes nothing', async () => {
      const {owner} = await newOrg('dup-member')
      const before = await t.core.audit.latestSeq()
      await expect(t.core.members.addMember(OPERATOR, {org: 'dup-member', user: owner.id, role: 'member'})).rejects.toMatchObject({code: 'member.exists'})
      expect(await roleTable('dup-member')).toEqual([[owner.email, 'owner']])
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('raises org.not_found, user.not_found and role.not_found', async () => {
      await newOrg('missing-things')
      const user = await newUser('mt')
      await expect(t.core.members.addMember(OPERATOR, {org: 'no-such-org', user: user.id, role: 'member'})).rejects.toMatchObject({code: 'org.not_found'})
      await expect(t.core.members.addMember(OPERATOR, {org: 'missing-things', user: 'nobody@example.com', role: 'member'})).rejects.toMatchObject({code: 'user.not_found'})
      await expect(t.core.members.addMember(OPERATOR, {org: 'missing-things', user: user.id, role: 'superuser'})).rejects.toMatchObject({code: 'role.not_found'})
      await expect(t.core.members.listMembers(OPERATOR, {org: 'no-such-org'})).rejects.toMatchObject({code: 'org.not_found'})
      expect((await t.core.members.listMembers(OPERATOR, {org: 'missing-things'})).items.length).toBe(1)
    })

    it('does not let one organization use another organization\'s custom role', async () => {
      await newOrg('role-home')
      await newOrg('role-away')
      await t.core.roles.createRole(OPERATOR, {org: 'role-home', key: 'billing', name: 'Billing', permissions: ['org.read']})
      const user = await newUser('cross')
      await expect(t.core.members.addMember(OPERATOR, {org: 'role-away', user: user.id, role: 'billing'})).rejects.toMatchObject({code: 'role.not_found'})
      expect(await t.core.members.addMember(OPERATOR, {org: 'role-home', user: user.id, role: 'billing'})).toMatchObject({role: 'billing'})
    })

    it('accepts a role key in any case, as createRole and showRole do', async () => {
      await newOrg('role-case')
      await t.core.roles.createRole(OPERATOR, {org: 'role-case', key: 'Support', name: 'Support', permissions: ['members.read']})
      expect((await t.core.roles.showRole(OPERATOR, {org: 'role-case', role: 'SUPPORT'})).key).toBe('support')
      const user = await newUser('role-case-user')
      expect(await t.core.members.addMember(OPERATOR, {org: 'role-case', user: user.id, role: 'Support'})).toMatchObject({role: 'support'})
      expect(await t.core.members.setMemberRole(OPERATOR, {org: 'role-case', user: user.id, role: 'Admin'})).toMatchObject({role: 'admin'})
    })

    it('lists a disabled member as disabled', async () => {
      await newOrg('status')
      const user = await newUser('status-user')
      await t.core.members.addMember(OPERATOR, {org: 'status', user: user.id, role: 'member'})
      await t.core.users.disableUser(OPERATOR, {user: user.id})
      const listed = (await t.core.members.listMembers(OPERATOR, {org: 'status'})).items.find((member) => member.userId === user.id)
      expect(listed?.status).toBe('disabled')
    })
  })

  describe('setMemberRole', () => {
    it('changes a role and audits from/to', async () => {
      const {org} = await newOrg('promote')
      const user = await newUser('promoted')
      await t.core.members.addMember(OPERATOR, {org: 'promote', user: user.id, role: 'viewer'})
      const before = await t.core.audit.latestSeq()
      const member = await t.core.members.setMemberRole(OPERATOR, {org: 'promote', user: user.email, role: 'admin'})
      expect(member).toMatchObject({userId: user.id, role: 'admin'})
      expect((await t.core.members.listMembers(OPERATOR, {org: 'promote'})).items.find((m) => m.userId === user.id)?.role).toBe('admin')
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({action: 'member.role_updated', orgId: org.id, target: {type: 'user', id: user.id}, metadata: {from: 'viewer', to: 'admin'}})
    })

    it('writes nothing when the role is unchanged', async () => {
      await newOrg('same-role')
      const user = await newUser('same')
      await t.core.members.addMember(OPERATOR, {org: 'same-role', user: user.id, role: 'member'})
      const before = await t.core.audit.latestSeq()
      expect(await t.core.members.setMemberRole(OPERATOR, {org: 'same-role', user: user.id, role: 'member'})).toMatchObject({role: 'member'})
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('refuses to demote the last owner (member.last_owner) and changes nothing', async () => {
      const {owner} = await newOrg('last-demote')
      const listBefore = (await t.core.members.listMembers(OPERATOR, {org: 'last-demote'})).items
      const before = await t.core.audit.latestSeq()
      for (const role of ['admin', 'member', 'viewer']) {
        await expect(t.core.members.setMemberRole(OPERATOR, {org: 'last-demote', user: owner.id, role})).rejects.toMatchObject({code: 'member.last_owner'})
      }
      expect((await t.core.members.listMembers(OPERATOR, {org: 'last-demote'})).items).toEqual(listBefore)
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('with two owners lets one be demoted, then protects the remaining one', async () => {
      const {owner} = await newOrg('two-owners')
      const second = await newUser('second-owner')
      await t.core.members.addMember(OPERATOR, {org: 'two-owners', user: second.id, role: 'owner'})
      await t.core.members.setMemberRole(OPERATOR, {org: 'two-owners', user: owner.id, role: 'admin'})
      const roles = Object.fromEntries(await roleTable('two-owners'))
      expect(roles).toEqual({[owner.email]: 'admin', [second.email]: 'owner'})
      await expect(t.core.members.setMemberRole(OPERATOR, {org: 'two-owners', user: second.id, role: 'admin'})).rejects.toMatchObject({code: 'member.last_owner'})
      await expect(t.core.members.removeMember(OPERATOR, {org: 'two-owners', user: second.id})).rejects.toMatchObject({code: 'member.last_owner'})
    })

    it('of two owners demoted at once, exactly one is demoted', async () => {
      const {owner} = await newOrg('race')
      const second = await newUser('race-second')
      await t.core.members.addMember(OPERATOR, {org: 'race', user: second.id, role: 'owner'})
      const before = await t.core.audit.latestSeq()
      const results = await Promise.allSettled([
        t.core.members.setMemberRole(OPERATOR, {org: 'race', user: owner.id, role: 'admin'}),
        t.core.members.setMemberRole(OPERATOR, {org: 'race', user: second.id, role: 'admin'}),
      ])
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      const rejected = results.find((result) => result.status === 'rejected')
      expect(rejected?.reason).toMatchObject({code: 'member.last_owner'})
      expect((await t.core.members.listMembers(OPERATOR, {org: 'race'})).items.filter((member) => member.role === 'owner')).toHaveLength(1)
      expect((await t.core.audit.listEventsAfter({afterSeq: before})).map((event) => event.action)).toEqual(['member.role_updated'])
    })

    it('counts only owners of the same organization', async () => {
      const {owner: ownerA} = await newOrg('org-a')
      const {owner: ownerB} = await newOrg('org-b')
      // ownerB owns org-b; being an owner elsewhere must not let org-a lose its only owner.
      await t.core.members.addMember(OPERATOR, {org: 'org-a', user: ownerB.id, role: 'member'})
      await expect(t.core.members.setMemberRole(OPERATOR, {org: 'org-a', user: ownerA.id, role: 'member'})).rejects.toMatchObject({code: 'member.last_owner'})
      await expect(t.core.members.removeMember(OPERATOR, {org: 'org-a', user: ownerA.id})).rejects.toMatchObject({code: 'member.last_owner'})
    })

    it('raises member.not_found for a user who is not a member', async () => {
      await newOrg('not-member')
      const user = await newUser('outsider')
      await expect(t.core.members.setMemberRole(OPERATOR, {org: 'not-member', user: user.id, role: 'admin'})).rejects.toMatchObject({code: 'member.not_found'})
      await expect(t.core.members.removeMember(OPERATOR, {org: 'not-member', user: user.id})).rejects.toMatchObject({code: 'member.not_found'})
    })
  })

  describe('removeMember', () => {
    it('removes a member and audits member.removed', async () => {
      const {org, owner} = await newOrg('remove')
      const user = await newUser('removed')
      await t.core.members.addMember(OPERATOR, {org: 'remove', user: user.id, role: 'member'})
      const before = await t.core.audit.latestSeq()
      expect(await t.core.members.removeMember(OPERATOR, {org: 'remove', user: user.email})).toEqual({orgId: org.id, userId: user.id, email: user.email, role: 'member'})
      expect(await roleTable('remove')).toEqual([[owner.email, 'owner']])
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({action: 'member.removed', orgId: org.id, target: {type: 'user', id: user.id}, metadata: {email: user.email, role: 'member'}})
      // They can be added again.
      expect(await t.core.members.addMember(OPERATOR, {org: 'remove', user: user.id, role: 'viewer'})).toMatchObject({role: 'viewer'})
    })

    it('refuses to remove the last owner (member.last_owner) and changes nothing', async () => {
      const {owner} = await newOrg('last-remove')
      const other = await newUser('other-admin')
      await t.core.members.addMember(OPERATOR, {org: 'last-remove', user: other.id, role: 'admin'})
      const listBefore = (await t.core.members.listMembers(OPERATOR, {org: 'last-remove'})).items
      const before = await t.core.audit.latestSeq()
      await expect(t.core.members.removeMember(OPERATOR, {org: 'last-remove', user: owner.email})).rejects.toMatchObject({code: 'member.last_owner'})
      expect((await t.core.members.listMembers(OPERATOR, {org: 'last-remove'})).items).toEqual(listBefore)
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('removes one of two owners', async () => {
      const {owner} = await newOrg('remove-owner')
      const second = await newUser('second')
      await t.core.members.addMember(OPERATOR, {org: 'remove-owner', user: second.id, role: 'owner'})
      await t.core.members.removeMember(OPERATOR, {org: 'remove-owner', user: owner.id})
      expect(await roleTable('remove-owner')).toEqual([[second.email, 'owner']])
    })
  })
})
