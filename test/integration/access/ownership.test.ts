import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Actor} from '../../../src/access/principal.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {createAccessFixtures} from './access-fixtures.js'

describeEachDialect('member service: owners, leaving and handing over', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())
  const {seedOrg, newUser, roleTable, membershipRevocations, countSignals} = createAccessFixtures(() => t)

  describe('the last owner stays', () => {
    it('does not count a disabled co-owner as another owner', async () => {
      const {org, users, as} = await seedOrg('disabled-co-owner', {own: 'owner', off: 'owner', adm: 'admin'})
      await t.core.users.disableUser(OPERATOR, {user: users.off!.id})
      const before = await t.core.audit.latestSeq()
      const roles = await roleTable(org.id)
      for (const actor of [OPERATOR, as('own')]) {
        await expect(t.core.members.setMemberRole(actor, {org: org.slug, user: users.own!.id, role: 'admin'})).rejects.toMatchObject({code: 'member.last_owner'})
        await expect(t.core.members.removeMember(actor, {org: org.slug, user: users.own!.id})).rejects.toMatchObject({code: 'member.last_owner'})
      }
      await expect(t.core.members.leaveOrg(as('own'), {org: org.slug})).rejects.toMatchObject({code: 'member.last_owner'})
      expect(await roleTable(org.id)).toEqual(roles)
      expect(await t.core.audit.latestSeq()).toBe(before)
      // The disabled owner may go: an active owner remains.
      await t.core.members.setMemberRole(as('own'), {org: org.slug, user: users.off!.id, role: 'admin'})
      // Enabled again, a co-owner counts.
      await t.core.members.setMemberRole(OPERATOR, {org: org.slug, user: users.off!.id, role: 'owner'})
      await t.core.users.enableUser(OPERATOR, {user: users.off!.id})
      expect(await t.core.members.setMemberRole(as('own'), {org: org.slug, user: users.own!.id, role: 'admin'})).toMatchObject({role: 'admin'})
    })
  })

  describe('leaveOrg', () => {
    it('lets a member leave with any of their tokens, audits member.left and voids their tokens bound to the org', async () => {
      const {org, users, boundTo} = await seedOrg('leaving', {own: 'owner', mem: 'member'})
      const elsewhere = await seedOrg('leaving-elsewhere', {own: 'owner'})
      const before = await t.core.audit.latestSeq()
      const signals = countSignals()
      try {
        // Bound to another org, or to none: leaving needs no binding and no permission.
        expect(await t.core.members.leaveOrg(boundTo('mem', elsewhere.org.id), {org: org.slug})).toEqual({orgId: org.id, userId: users.mem!.id})
        expect(signals.count()).toBe(1)
      } finally {
        signals.stop()
      }
      expect(await roleTable(org.id)).toEqual({[users.own!.email]: 'owner'})
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({action: 'member.left', orgId: org.id, actor: {type: 'user', id: users.mem!.id}, target: {type: 'user', id: users.mem!.id}, metadata: {email: users.mem!.email, role: 'member'}})
      expect(await membershipRevocations(org.id)).toEqual([`${users.mem!.id}:member_left`])
      // Gone: a second attempt finds no org for them.
      await expect(t.core.members.leaveOrg(boundTo('mem', null), {org: org.slug})).rejects.toMatchObject({code: 'org.not_found'})
    })

    it('lets an owner leave while another active owner remains, and refuses principals that are not members', async () => {
      const {org, users, as} = await seedOrg('leaving-owner', {own: 'owner', own2: 'owner'})
      const {key} = await t.core.apiKeys.createApiKey(OPERATOR, {org: org.id, name: 'ci', role: 'admin'})
      const orgKey: Actor = {principal: {kind: 'api_key', keyId: key.id, name: 'ci', orgId: org.id}, origin: {}}
      await expect(t.core.members.leaveOrg(OPERATOR, {org: org.slug})).rejects.toMatchObject({code: 'permission.denied'})
      await expect(t.core.members.leaveOrg(orgKey, {org: org.slug})).rejects.toMatchObject({code: 'permission.denied'})
      await t.core.members.leaveOrg(as('own'), {org: org.slug})
      await expect(t.core.members.leaveOrg(as('own2'), {org: org.slug})).rejects.toMatchObject({code: 'member.last_owner'})
      expect(await roleTable(org.id)).toEqual({[users.own2!.email]: 'owner'})
    })
  })

  describe('transferOwnership', () => {
    it('makes the member owner and the calling owner admin, audits it and voids the previous owner\'s tokens bound to the org', async () => {
      const {org, users, as} = await seedOrg('handover', {own: 'owner', mem: 'member', vie: 'viewer'})
      const before = await t.core.audit.latestSeq()
      const owner = await t.core.members.transferOwnership(as('own'), {org: org.slug, user: users.mem!.email})
      expect(owner).toMatchObject({userId: users.mem!.id, role: 'owner', status: 'active'})
      expect(await roleTable(org.id)).toEqual({[users.own!.email]: 'admin', [users.mem!.email]: 'owner', [users.vie!.email]: 'viewer'})
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({
        action: 'org.ownership_transferred',
        orgId: org.id,
        actor: {type: 'user', id: users.own!.id},
        target: {type: 'user', id: users.mem!.id},
        metadata: {email: users.mem!.email, from: 'member', demoted: [users.own!.email], demoted_to: 'admin'},
      })
      expect(await membershipRevocations(org.id)).toEqual([`${users.own!.id}:ownership_transferred`])
      // The previous owner is an admin now, judged as one on the next call.
      await expect(t.core.members.transferOwnership(as('own'), {org: org.slug, user: users.own!.id})).rejects.toMatchObject({code: 'role.grant_forbidden'})
    })

    it('is refused to non-owners, for non-members and for disabled users, with nothing written', async () => {
      const {org, users, as} = await seedOrg('handover-refused', {own: 'owner', adm: 'admin', vie: 'viewer', off: 'member'})
      const outsider = await newUser('handover-outsider')
      await t.core.users.disableUser(OPERATOR, {user: users.off!.id})
      const {key} = await t.core.apiKeys.createApiKey(OPERATOR, {org: org.id, name: 'owner-key', role: 'owner'})
      const ownerKey: Actor = {principal: {kind: 'api_key', keyId: key.id, name: 'owner-key', orgId: org.id}, origin: {}}
      const roles = await roleTable(org.id)
      const before = await t.core.audit.latestSeq()
      const refusals: [Actor, string, string][] = [
        [as('adm'), users.vie!.id, 'role.grant_forbidden'],
        [as('vie'), users.vie!.id, 'permission.denied'],
        [ownerKey, users.adm!.id, 'role.grant_forbidden'],
        [as('own'), outsider.id, 'member.not_found'],
        [as('own'), 'nobody@example.com', 'member.not_found'],
        [as('own'), users.off!.id, 'user.disabled'],
        [OPERATOR, 'nobody@example.com', 'user.not_found'],
      ]
      for (const [actor, user, code] of refusals) {
        await expect(t.core.members.transferOwnership(actor, {org: org.slug, user})).rejects.toMatchObject({code})
      }
      expect(await roleTable(org.id)).toEqual(roles)
      expect(await t.core.audit.latestSeq()).toBe(before)
      expect(await membershipRevocations(org.id)).toEqual([])
    })

    it('by a platform principal makes every other owner admin; handing it to the sole owner changes nothing', async () => {
      const {org, users} = await seedOrg('platform-handover', {own: 'owner', own2: 'owner', mem: 'member'})
      await t.core.members.transferOwnership(OPERATOR, {org: org.slug, user: users.mem!.id})
      expect(await roleTable(org.id)).toEqual({[users.own!.email]: 'admin', [users.own2!.email]: 'admin', [users.mem!.email]: 'owner'})
      expect((await membershipRevocations(org.id)).sort()).toEqual([`${users.own!.id}:ownership_transferred`, `${users.own2!.id}:ownership_transferred`].sort())
      const before = await t.core.audit.latestSeq()
      expect(await t.core.members.transferOwnership(OPERATOR, {org: org.slug, user: users.mem!.id})).toMatchObject({role: 'owner'})
      expect(await t.core.audit.latestSeq()).toBe(before)
    })
  })
})
