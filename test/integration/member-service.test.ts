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
    return (await t.core.members.listMembers(slug)).map((member) => [member.email, member.role])
  }

  describe('addMember and listMembers', () => {
    it('adds members with roles, lists them and audits member.added', async () => {
      const {org, owner} = await newOrg('add')
      const ann = await newUser('ann')
      const before = await t.core.audit.latestSeq()
      const added = await t.core.members.addMember(OPERATOR, 'add', ann.email.toUpperCase(), 'admin')
      expect(added).toMatchObject({userId: ann.id, email: ann.email, role: 'admin', status: 'active'})
      t.clock.advance(1000)
      const bob = await newUser('bob')
      await t.core.members.addMember(OPERATOR, org.id, bob.id, 'viewer')
      // Ordered by join time, then email: the owner and ann joined at the same instant.
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
      expect((await t.core.orgs.showOrg('add')).memberCount).toBe(3)
    })

    it('refuses a second membership with member.exists and writes nothing', async () => {
      const {owner} = await newOrg('dup-member')
      const before = await t.core.audit.latestSeq()
      await expect(t.core.members.addMember(OPERATOR, 'dup-member', owner.id, 'member')).rejects.toMatchObject({code: 'member.exists'})
      expect(await roleTable('dup-member')).toEqual([[owner.email, 'owner']])
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('raises org.not_found, user.not_found and role.not_found', async () => {
      await newOrg('missing-things')
      const user = await newUser('mt')
      await expect(t.core.members.addMember(OPERATOR, 'no-such-org', user.id, 'member')).rejects.toMatchObject({code: 'org.not_found'})
      await expect(t.core.members.addMember(OPERATOR, 'missing-things', 'nobody@example.com', 'member')).rejects.toMatchObject({code: 'user.not_found'})
      await expect(t.core.members.addMember(OPERATOR, 'missing-things', user.id, 'superuser')).rejects.toMatchObject({code: 'role.not_found'})
      await expect(t.core.members.listMembers('no-such-org')).rejects.toMatchObject({code: 'org.not_found'})
      expect((await t.core.members.listMembers('missing-things')).length).toBe(1)
    })

    it('does not let one organization use another organization\'s custom role', async () => {
      await newOrg('role-home')
      await newOrg('role-away')
      await t.core.roles.createRole(OPERATOR, 'role-home', {key: 'billing', name: 'Billing', permissions: ['org.read']})
      const user = await newUser('cross')
      await expect(t.core.members.addMember(OPERATOR, 'role-away', user.id, 'billing')).rejects.toMatchObject({code: 'role.not_found'})
      expect(await t.core.members.addMember(OPERATOR, 'role-home', user.id, 'billing')).toMatchObject({role: 'billing'})
    })

    it('accepts a role key in any case, as createRole and showRole do', async () => {
      await newOrg('role-case')
      await t.core.roles.createRole(OPERATOR, 'role-case', {key: 'Support', name: 'Support', permissions: ['members.read']})
      expect((await t.core.roles.showRole('role-case', 'SUPPORT')).key).toBe('support')
      const user = await newUser('role-case-user')
      expect(await t.core.members.addMember(OPERATOR, 'role-case', user.id, 'Support')).toMatchObject({role: 'support'})
      expect(await t.core.members.setMemberRole(OPERATOR, 'role-case', user.id, 'Admin')).toMatchObject({role: 'admin'})
    })

    it('lists a disabled member as disabled', async () => {
      await newOrg('status')
      const user = await newUser('status-user')
      await t.core.members.addMember(OPERATOR, 'status', user.id, 'member')
      await t.core.users.disableUser(OPERATOR, user.id)
      const listed = (await t.core.members.listMembers('status')).find((member) => member.userId === user.id)
      expect(listed?.status).toBe('disabled')
    })
  })

  describe('setMemberRole', () => {
    it('changes a role and audits from/to', async () => {
      const {org} = await newOrg('promote')
      const user = await newUser('promoted')
      await t.core.members.addMember(OPERATOR, 'promote', user.id, 'viewer')
      const before = await t.core.audit.latestSeq()
      const member = await t.core.members.setMemberRole(OPERATOR, 'promote', user.email, 'admin')
      expect(member).toMatchObject({userId: user.id, role: 'admin'})
      expect((await t.core.members.listMembers('promote')).find((m) => m.userId === user.id)?.role).toBe('admin')
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({action: 'member.role_updated', orgId: org.id, target: {type: 'user', id: user.id}, metadata: {from: 'viewer', to: 'admin'}})
    })

    it('writes nothing when the role is unchanged', async () => {
      await newOrg('same-role')
      const user = await newUser('same')
      await t.core.members.addMember(OPERATOR, 'same-role', user.id, 'member')
      const before = await t.core.audit.latestSeq()
      expect(await t.core.members.setMemberRole(OPERATOR, 'same-role', user.id, 'member')).toMatchObject({role: 'member'})
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('refuses to demote the last owner (member.last_owner) and changes nothing', async () => {
      const {owner} = await newOrg('last-demote')
      const listBefore = await t.core.members.listMembers('last-demote')
      const before = await t.core.audit.latestSeq()
      for (const role of ['admin', 'member', 'viewer']) {
        await expect(t.core.members.setMemberRole(OPERATOR, 'last-demote', owner.id, role)).rejects.toMatchObject({code: 'member.last_owner'})
      }
      expect(await t.core.members.listMembers('last-demote')).toEqual(listBefore)
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('with two owners lets one be demoted, then protects the remaining one', async () => {
      const {owner} = await newOrg('two-owners')
      const second = await newUser('second-owner')
      await t.core.members.addMember(OPERATOR, 'two-owners', second.id, 'owner')
      await t.core.members.setMemberRole(OPERATOR, 'two-owners', owner.id, 'admin')
      const roles = Object.fromEntries(await roleTable('two-owners'))
      expect(roles).toEqual({[owner.email]: 'admin', [second.email]: 'owner'})
      await expect(t.core.members.setMemberRole(OPERATOR, 'two-owners', second.id, 'admin')).rejects.toMatchObject({code: 'member.last_owner'})
      await expect(t.core.members.removeMember(OPERATOR, 'two-owners', second.id)).rejects.toMatchObject({code: 'member.last_owner'})
    })

    it('of two owners demoted at once, exactly one is demoted', async () => {
      const {owner} = await newOrg('race')
      const second = await newUser('race-second')
      await t.core.members.addMember(OPERATOR, 'race', second.id, 'owner')
      const before = await t.core.audit.latestSeq()
      const results = await Promise.allSettled([
        t.core.members.setMemberRole(OPERATOR, 'race', owner.id, 'admin'),
        t.core.members.setMemberRole(OPERATOR, 'race', second.id, 'admin'),
      ])
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      const rejected = results.find((result) => result.status === 'rejected')
      expect(rejected?.reason).toMatchObject({code: 'member.last_owner'})
      expect((await t.core.members.listMembers('race')).filter((member) => member.role === 'owner')).toHaveLength(1)
      expect((await t.core.audit.listEventsAfter({afterSeq: before})).map((event) => event.action)).toEqual(['member.role_updated'])
    })

    it('counts only owners of the same organization', async () => {
      const {owner: ownerA} = await newOrg('org-a')
      const {owner: ownerB} = await newOrg('org-b')
      // ownerB owns org-b; being an owner elsewhere must not let org-a lose its only owner.
      await t.core.members.addMember(OPERATOR, 'org-a', ownerB.id, 'member')
      await expect(t.core.members.setMemberRole(OPERATOR, 'org-a', ownerA.id, 'member')).rejects.toMatchObject({code: 'member.last_owner'})
      await expect(t.core.members.removeMember(OPERATOR, 'org-a', ownerA.id)).rejects.toMatchObject({code: 'member.last_owner'})
    })

    it('raises member.not_found for a user who is not a member', async () => {
      await newOrg('not-member')
      const user = await newUser('outsider')
      await expect(t.core.members.setMemberRole(OPERATOR, 'not-member', user.id, 'admin')).rejects.toMatchObject({code: 'member.not_found'})
      await expect(t.core.members.removeMember(OPERATOR, 'not-member', user.id)).rejects.toMatchObject({code: 'member.not_found'})
    })
  })

  describe('removeMember', () => {
    it('removes a member and audits member.removed', async () => {
      const {org, owner} = await newOrg('remove')
      const user = await newUser('removed')
      await t.core.members.addMember(OPERATOR, 'remove', user.id, 'member')
      const before = await t.core.audit.latestSeq()
      expect(await t.core.members.removeMember(OPERATOR, 'remove', user.email)).toEqual({orgId: org.id, userId: user.id, email: user.email, role: 'member'})
      expect(await roleTable('remove')).toEqual([[owner.email, 'owner']])
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({action: 'member.removed', orgId: org.id, target: {type: 'user', id: user.id}, metadata: {email: user.email, role: 'member'}})
      // They can be added again.
      expect(await t.core.members.addMember(OPERATOR, 'remove', user.id, 'viewer')).toMatchObject({role: 'viewer'})
    })

    it('refuses to remove the last owner (member.last_owner) and changes nothing', async () => {
      const {owner} = await newOrg('last-remove')
      const other = await newUser('other-admin')
      await t.core.members.addMember(OPERATOR, 'last-remove', other.id, 'admin')
      const listBefore = await t.core.members.listMembers('last-remove')
      const before = await t.core.audit.latestSeq()
      await expect(t.core.members.removeMember(OPERATOR, 'last-remove', owner.email)).rejects.toMatchObject({code: 'member.last_owner'})
      expect(await t.core.members.listMembers('last-remove')).toEqual(listBefore)
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('removes one of two owners', async () => {
      const {owner} = await newOrg('remove-owner')
      const second = await newUser('second')
      await t.core.members.addMember(OPERATOR, 'remove-owner', second.id, 'owner')
      await t.core.members.removeMember(OPERATOR, 'remove-owner', owner.id)
      expect(await roleTable('remove-owner')).toEqual([[second.email, 'owner']])
    })
  })
})
