import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Actor} from '../../src/access/principal.js'
import {FAST_PASSWORD_HASHER, createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

describeEachDialect('user service', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  async function readUserRow(email: string) {
    return t.core.database.db.selectFrom('user_account').selectAll().where('email', '=', email).executeTakeFirst()
  }

  describe('createUser', () => {
    it('normalizes the email (trimmed, lowercased) and audits user.created', async () => {
      const before = await t.core.audit.latestSeq()
      const {user, created} = await t.core.users.createUser(OPERATOR, {email: '  Grace.Hopper@Example.COM ', name: 'Grace'})
      expect(created).toBe(true)
      expect(user).toMatchObject({email: 'grace.hopper@example.com', name: 'Grace', status: 'active', isPlatformAdmin: false, disabledAt: null})
      expect((await readUserRow('grace.hopper@example.com'))?.id).toBe(user.id)
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({
        action: 'user.created',
        orgId: null,
        actor: {type: 'cli', id: 'test-operator', name: 'test-operator'},
        target: {type: 'user', id: user.id},
        metadata: {email: 'grace.hopper@example.com', name: 'Grace', has_password: false},
      })
    })

    it('finds users by id and by email in any case', async () => {
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'lookup@example.com'})
      expect((await t.core.users.showUser(OPERATOR, {user: user.id})).email).toBe('lookup@example.com')
      expect((await t.core.users.showUser(OPERATOR, {user: ' LookUp@Example.com '})).id).toBe(user.id)
      await expect(t.core.users.showUser(OPERATOR, {user: 'missing@example.com'})).rejects.toMatchObject({code: 'user.not_found'})
    })

    it('treats emails as unique case-insensitively', async () => {
      await t.core.users.createUser(OPERATOR, {email: 'unique@example.com'})
      const before = await t.core.audit.latestSeq()
      await expect(t.core.users.createUser(OPERATOR, {email: 'UNIQUE@example.com'})).rejects.toMatchObject({code: 'user.email_taken'})
      await expect(t.core.users.createUser(OPERATOR, {email: ' Unique@Example.Com'})).rejects.toMatchObject({code: 'user.email_taken'})
      const rows = await t.core.database.db.selectFrom('user_account').select('id').where('email', 'like', '%nique@example.com').execute()
      expect(rows).toHaveLength(1)
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('of two concurrent creates of one email (in different case), one succeeds and the other gets user.email_taken', async () => {
      const results = await Promise.allSettled([
        t.core.users.createUser(OPERATOR, {email: 'race@example.com'}),
        t.core.users.createUser(OPERATOR, {email: 'RACE@example.com'}),
      ])
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      expect(results.find((result) => result.status === 'rejected')?.reason).toMatchObject({code: 'user.email_taken'})
      expect(await t.core.database.db.selectFrom('user_account').select('id').where('email', '=', 'race@example.com').execute()).toHaveLength(1)
    })

    it.each(['not-an-email', 'missing-at.example.com', 'a@', '@example.com', 'two@@example.com', 'spa ce@example.com', ''])('rejects the invalid email %j', async (email) => {
      const countBefore = (await t.core.users.listUsers(OPERATOR)).length
      await expect(t.core.users.createUser(OPERATOR, {email})).rejects.toMatchObject({code: 'validation.failed'})
      expect((await t.core.users.listUsers(OPERATOR)).length).toBe(countBefore)
    })

    it('rejects a password shorter than 8 characters', async () => {
      await expect(t.core.users.createUser(OPERATOR, {email: 'short-pw@example.com', password: 'short'})).rejects.toMatchObject({code: 'password.too_weak', details: {rule: 'too_short'}})
      expect(await readUserRow('short-pw@example.com')).toBeUndefined()
    })

    it('stores the password only as an argon2id hash that verifies', async () => {
      const password = 'correct horse battery staple'
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'hashed@example.com', password})
      const row = await readUserRow('hashed@example.com')
      expect(row?.password_hash).toBeTruthy()
      const hash = row?.password_hash ?? ''
      expect(hash).not.toBe(password)
      expect(hash).not.toContain(password)
      expect(hash.startsWith('$argon2id$')).toBe(true)
      expect(row?.password_changed_at).toBe(t.clock.now().toISOString())
      expect((await FAST_PASSWORD_HASHER.verifyPassword(hash, password)).ok).toBe(true)
      expect((await FAST_PASSWORD_HASHER.verifyPassword(hash, 'wrong password!')).ok).toBe(false)
      // Neither the public shape nor the audit event carries the hash or the password.
      expect(JSON.stringify(user)).not.toContain('$argon2')
      const [event] = await t.core.audit.listEvents({action: 'user.created', actor: 'test-operator'}, 1)
      expect(event?.target?.id).toBe(user.id)
      expect(event?.metadata).toMatchObject({has_password: true})
      expect(JSON.stringify(event)).not.toContain(password)
      expect(JSON.stringify(event)).not.toContain('$argon2')
    })

    it('stores no hash for a user created without a password', async () => {
      await t.core.users.createUser(OPERATOR, {email: 'nopass@example.com'})
      expect(await readUserRow('nopass@example.com')).toMatchObject({password_hash: null, password_changed_at: null})
    })

    it('with ifNotExists returns the existing user (created false) and writes nothing', async () => {
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'again@example.com', name: 'Again'})
      const before = await t.core.audit.latestSeq()
      const second = await t.core.users.createUser(OPERATOR, {email: 'AGAIN@example.com', name: 'Again', ifNotExists: true})
      expect(second).toEqual({user, created: false})
      await expect(t.core.users.createUser(OPERATOR, {email: 'again@example.com', name: 'Someone Else', ifNotExists: true})).rejects.toMatchObject({code: 'user.email_taken'})
      expect(await t.core.audit.latestSeq()).toBe(before)
    })
  })

  describe('updateUser', () => {
    it('changes name and email and keeps email uniqueness', async () => {
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'rename@example.com', name: 'Old'})
      await t.core.users.createUser(OPERATOR, {email: 'taken@example.com'})
      const updated = await t.core.users.updateUser(OPERATOR, {user: user.id, name: 'New', email: 'Renamed@Example.com'})
      expect(updated).toMatchObject({id: user.id, name: 'New', email: 'renamed@example.com'})
      expect((await t.core.users.showUser(OPERATOR, {user: 'renamed@example.com'})).id).toBe(user.id)
      const [event] = await t.core.audit.listEvents({action: 'user.updated'}, 1)
      expect(event).toMatchObject({target: {type: 'user', id: user.id}, metadata: {changes: {name: {from: 'Old', to: 'New'}, email: {from: 'rename@example.com', to: 'renamed@example.com'}}}})
      await expect(t.core.users.updateUser(OPERATOR, {user: user.id, email: 'TAKEN@example.com'})).rejects.toMatchObject({code: 'user.email_taken'})
      await expect(t.core.users.updateUser(OPERATOR, {user: user.id, email: 'not an email'})).rejects.toMatchObject({code: 'validation.failed'})
      expect((await t.core.users.showUser(OPERATOR, {user: user.id})).email).toBe('renamed@example.com')
    })
  })

  describe('disable and enable', () => {
    it('disables and enables, auditing each change once', async () => {
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'toggle@example.com'})
      const before = await t.core.audit.latestSeq()
      const disabled = await t.core.users.disableUser(OPERATOR, {user: 'toggle@example.com'})
      expect(disabled).toMatchObject({status: 'disabled', disabledAt: t.clock.now().toISOString()})
      expect((await t.core.users.showUser(OPERATOR, {user: user.id})).status).toBe('disabled')
      // Disabling again changes nothing and writes nothing.
      await t.core.users.disableUser(OPERATOR, {user: user.id})
      const enabled = await t.core.users.enableUser(OPERATOR, {user: user.id})
      expect(enabled).toMatchObject({status: 'active', disabledAt: null})
      expect((await t.core.users.showUser(OPERATOR, {user: user.id})).status).toBe('active')
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events.map((event) => [event.action, event.target?.id])).toEqual([
        ['user.disabled', user.id],
        ['user.enabled', user.id],
      ])
    })

    it('refuses to add a disabled user as a member (user.disabled) and writes nothing', async () => {
      const {user: owner} = await t.core.users.createUser(OPERATOR, {email: 'dis-owner@example.com'})
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'disabled-member@example.com'})
      await t.core.orgs.createOrg(OPERATOR, {name: 'Dis Org', slug: 'dis-org', owner: owner.id})
      await t.core.users.disableUser(OPERATOR, {user: user.id})
      const before = await t.core.audit.latestSeq()
      await expect(t.core.members.addMember(OPERATOR, {org: 'dis-org', user: user.email, role: 'member'})).rejects.toMatchObject({code: 'user.disabled'})
      expect((await t.core.members.listMembers(OPERATOR, {org: 'dis-org'})).items.map((member) => member.userId)).toEqual([owner.id])
      expect(await t.core.audit.latestSeq()).toBe(before)
      // Once enabled again, they can be added.
      await t.core.users.enableUser(OPERATOR, {user: user.id})
      expect(await t.core.members.addMember(OPERATOR, {org: 'dis-org', user: user.email, role: 'member'})).toMatchObject({userId: user.id, role: 'member'})
    })

    it('raises user.not_found for an unknown user', async () => {
      await expect(t.core.users.disableUser(OPERATOR, {user: 'ghost@example.com'})).rejects.toMatchObject({code: 'user.not_found'})
      await expect(t.core.users.enableUser(OPERATOR, {user: 'ghost@example.com'})).rejects.toMatchObject({code: 'user.not_found'})
    })
  })

  describe('deleteUser', () => {
    it('refuses to delete the last owner of an organization (user.is_last_owner) and writes nothing', async () => {
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'sole@example.com'})
      const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Sole', slug: 'sole', owner: user.id})
      const before = await t.core.audit.latestSeq()
      await expect(t.core.users.deleteUser(OPERATOR, {user: user.id})).rejects.toMatchObject({code: 'user.is_last_owner', details: {orgs: ['sole']}})
      expect((await t.core.users.showUser(OPERATOR, {user: user.id})).memberships).toEqual([{orgId: org.id, orgSlug: 'sole', orgName: 'Sole', role: 'owner'}])
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('refuses to delete a disabled user who is still the last owner', async () => {
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'sole-disabled@example.com'})
      await t.core.orgs.createOrg(OPERATOR, {name: 'Sole Disabled', slug: 'sole-disabled', owner: user.id})
      await t.core.users.disableUser(OPERATOR, {user: user.id})
      await expect(t.core.users.deleteUser(OPERATOR, {user: user.id})).rejects.toMatchObject({code: 'user.is_last_owner'})
    })

    it('deletes an owner when another owner remains, with their memberships', async () => {
      const {user: first} = await t.core.users.createUser(OPERATOR, {email: 'co-owner-1@example.com'})
      const {user: second} = await t.core.users.createUser(OPERATOR, {email: 'co-owner-2@example.com'})
      await t.core.orgs.createOrg(OPERATOR, {name: 'Co Owned', slug: 'co-owned', owner: first.id})
      await t.core.members.addMember(OPERATOR, {org: 'co-owned', user: second.id, role: 'owner'})
      const before = await t.core.audit.latestSeq()
      const deleted = await t.core.users.deleteUser(OPERATOR, {user: first.email})
      expect(deleted.id).toBe(first.id)
      await expect(t.core.users.showUser(OPERATOR, {user: first.id})).rejects.toMatchObject({code: 'user.not_found'})
      expect((await t.core.members.listMembers(OPERATOR, {org: 'co-owned'})).items.map((member) => [member.userId, member.role])).toEqual([[second.id, 'owner']])
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({action: 'user.deleted', target: {type: 'user', id: first.id}, metadata: {email: first.email, memberships_removed: 1}})
      // The second is now the last owner.
      await expect(t.core.users.deleteUser(OPERATOR, {user: second.id})).rejects.toMatchObject({code: 'user.is_last_owner'})
    })

    it('deletes a user who owns nothing and frees their email', async () => {
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'leaving@example.com'})
      await t.core.users.deleteUser(OPERATOR, {user: user.id})
      expect(await readUserRow('leaving@example.com')).toBeUndefined()
      const {created} = await t.core.users.createUser(OPERATOR, {email: 'leaving@example.com'})
      expect(created).toBe(true)
      await expect(t.core.users.deleteUser(OPERATOR, {user: 'nobody-here@example.com'})).rejects.toMatchObject({code: 'user.not_found'})
    })
  })

  describe('who may', () => {
    const asUser = (userId: string): Actor => ({principal: {kind: 'user', userId, sessionId: 'no-session', boundOrgId: null}, origin: {}})

    it('refuses users that are not platform admins with platform.required on every method, and writes nothing', async () => {
      const {user: plain} = await t.core.users.createUser(OPERATOR, {email: 'plain-caller@example.com'})
      const {user: target} = await t.core.users.createUser(OPERATOR, {email: 'plain-target@example.com'})
      const actor = asUser(plain.id)
      const before = await t.core.audit.latestSeq()
      const attempts: [string, () => Promise<unknown>][] = [
        ['createUser', () => t.core.users.createUser(actor, {email: 'made-by-plain@example.com'})],
        ['listUsers', () => t.core.users.listUsers(actor)],
        ['showUser', () => t.core.users.showUser(actor, {user: target.id})],
        ['showUser (self)', () => t.core.users.showUser(actor, {user: plain.id})],
        ['updateUser', () => t.core.users.updateUser(actor, {user: target.id, name: 'Renamed'})],
        ['disableUser', () => t.core.users.disableUser(actor, {user: target.id})],
        ['enableUser', () => t.core.users.enableUser(actor, {user: target.id})],
        ['deleteUser', () => t.core.users.deleteUser(actor, {user: target.id})],
        ['revokeAllSessionsOfUser', () => t.core.sessions.revokeAllSessionsOfUser(actor, {user: target.id})],
      ]
      for (const [label, attempt] of attempts) await expect(attempt(), label).rejects.toMatchObject({code: 'platform.required'})
      expect(await t.core.audit.latestSeq()).toBe(before)
      expect(await readUserRow('made-by-plain@example.com')).toBeUndefined()
      expect((await t.core.users.showUser(OPERATOR, {user: target.id})).status).toBe('active')
    })

    it('lets a platform-admin user manage users, and records them as the actor', async () => {
      const {user: admin} = await t.core.users.createUser(OPERATOR, {email: 'platform-admin@example.com', isPlatformAdmin: true})
      const actor = asUser(admin.id)
      const {user} = await t.core.users.createUser(actor, {email: 'made-by-admin@example.com'})
      expect(await t.core.users.disableUser(actor, {user: user.id})).toMatchObject({status: 'disabled'})
      expect(await t.core.users.enableUser(actor, {user: user.email})).toMatchObject({status: 'active'})
      expect((await t.core.users.listUsers(actor)).map((listed) => listed.id)).toContain(user.id)
      const [event] = await t.core.audit.listEvents({action: 'user.enabled'}, 1)
      expect(event).toMatchObject({actor: {type: 'user', id: admin.id}, target: {type: 'user', id: user.id}})
    })

    it('refuses a disabled platform admin with auth.invalid_token', async () => {
      const {user: admin} = await t.core.users.createUser(OPERATOR, {email: 'disabled-admin@example.com', isPlatformAdmin: true})
      await t.core.users.disableUser(OPERATOR, {user: admin.id})
      await expect(t.core.users.listUsers(asUser(admin.id))).rejects.toMatchObject({code: 'auth.invalid_token'})
    })
  })

  describe('deleteUser purges through the registered hooks', () => {
    it('removes the user\'s sessions, refresh tokens and memberships, and reports what each hook removed', async () => {
      const {user: owner} = await t.core.users.createUser(OPERATOR, {email: 'purge-owner@example.com'})
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'purged@example.com', password: 'correct horse battery staple'})
      await t.core.orgs.createOrg(OPERATOR, {name: 'Purge One', slug: 'purge-one', owner: owner.id})
      await t.core.orgs.createOrg(OPERATOR, {name: 'Purge Two', slug: 'purge-two', owner: owner.id})
      await t.core.members.addMember(OPERATOR, {org: 'purge-one', user: user.id, role: 'member'})
      await t.core.members.addMember(OPERATOR, {org: 'purge-two', user: user.id, role: 'viewer'})
      await t.core.signingKeys.ensureActiveKey(OPERATOR)
      const first = await t.core.sessions.login({}, {email: user.email, password: 'correct horse battery staple'})
      await t.core.sessions.login({}, {email: user.email, password: 'correct horse battery staple'})
      await t.core.sessions.refresh({}, {refreshToken: first.refreshToken})
      const {db} = t.core.database

      const before = await t.core.audit.latestSeq()
      await t.core.users.deleteUser(OPERATOR, {user: user.id})

      expect(await db.selectFrom('session').select('id').where('user_id', '=', user.id).execute()).toEqual([])
      expect(await db.selectFrom('refresh_token').select('id').where('session_id', '=', first.sessionId).execute()).toEqual([])
      expect(await db.selectFrom('membership').select('id').where('user_id', '=', user.id).execute()).toEqual([])
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events.map((event) => event.action)).toEqual(['user.deleted'])
      expect(events[0]?.metadata).toMatchObject({memberships_removed: 2, removed: {sessions: 2, memberships: 2}})
      // The owner and their organizations are untouched.
      expect((await t.core.members.listMembers(OPERATOR, {org: 'purge-one'})).items.map((member) => member.userId)).toEqual([owner.id])
    })
  })
})
