import {afterAll, beforeAll, describe, expect, it} from 'vitest'
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
        actor: {type: 'cli', id: OPERATOR.id, name: OPERATOR.name},
        target: {type: 'user', id: user.id},
        metadata: {email: 'grace.hopper@example.com', name: 'Grace', has_password: false},
      })
    })

    it('finds users by id and by email in any case', async () => {
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'lookup@example.com'})
      expect((await t.core.users.showUser(user.id)).email).toBe('lookup@example.com')
      expect((await t.core.users.showUser(' LookUp@Example.com ')).id).toBe(user.id)
      await expect(t.core.users.showUser('missing@example.com')).rejects.toMatchObject({code: 'user.not_found'})
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
      const countBefore = (await t.core.users.listUsers()).length
      await expect(t.core.users.createUser(OPERATOR, {email})).rejects.toMatchObject({code: 'validation.failed'})
      expect((await t.core.users.listUsers()).length).toBe(countBefore)
    })

    it('rejects a password shorter than 8 characters', async () => {
      await expect(t.core.users.createUser(OPERATOR, {email: 'short-pw@example.com', password: 'short'})).rejects.toMatchObject({code: 'validation.failed'})
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
      const [event] = await t.core.audit.listEvents({action: 'user.created', actor: OPERATOR.id ?? ''}, 1)
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
      const updated = await t.core.users.updateUser(OPERATOR, user.id, {name: 'New', email: 'Renamed@Example.com'})
      expect(updated).toMatchObject({id: user.id, name: 'New', email: 'renamed@example.com'})
      expect((await t.core.users.showUser('renamed@example.com')).id).toBe(user.id)
      const [event] = await t.core.audit.listEvents({action: 'user.updated'}, 1)
      expect(event).toMatchObject({target: {type: 'user', id: user.id}, metadata: {changes: {name: {from: 'Old', to: 'New'}, email: {from: 'rename@example.com', to: 'renamed@example.com'}}}})
      await expect(t.core.users.updateUser(OPERATOR, user.id, {email: 'TAKEN@example.com'})).rejects.toMatchObject({code: 'user.email_taken'})
      await expect(t.core.users.updateUser(OPERATOR, user.id, {email: 'not an email'})).rejects.toMatchObject({code: 'validation.failed'})
      expect((await t.core.users.showUser(user.id)).email).toBe('renamed@example.com')
    })
  })

  describe('disable and enable', () => {
    it('disables and enables, auditing each change once', async () => {
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'toggle@example.com'})
      const before = await t.core.audit.latestSeq()
      const disabled = await t.core.users.disableUser(OPERATOR, 'toggle@example.com')
      expect(disabled).toMatchObject({status: 'disabled', disabledAt: t.clock.now().toISOString()})
      expect((await t.core.users.showUser(user.id)).status).toBe('disabled')
      // Disabling again changes nothing and writes nothing.
      await t.core.users.disableUser(OPERATOR, user.id)
      const enabled = await t.core.users.enableUser(OPERATOR, user.id)
      expect(enabled).toMatchObject({status: 'active', disabledAt: null})
      expect((await t.core.users.showUser(user.id)).status).toBe('active')
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
      await t.core.users.disableUser(OPERATOR, user.id)
      const before = await t.core.audit.latestSeq()
      await expect(t.core.members.addMember(OPERATOR, 'dis-org', user.email, 'member')).rejects.toMatchObject({code: 'user.disabled'})
      expect((await t.core.members.listMembers('dis-org')).map((member) => member.userId)).toEqual([owner.id])
      expect(await t.core.audit.latestSeq()).toBe(before)
      // Once enabled again, they can be added.
      await t.core.users.enableUser(OPERATOR, user.id)
      expect(await t.core.members.addMember(OPERATOR, 'dis-org', user.email, 'member')).toMatchObject({userId: user.id, role: 'member'})
    })

    it('raises user.not_found for an unknown user', async () => {
      await expect(t.core.users.disableUser(OPERATOR, 'ghost@example.com')).rejects.toMatchObject({code: 'user.not_found'})
      await expect(t.core.users.enableUser(OPERATOR, 'ghost@example.com')).rejects.toMatchObject({code: 'user.not_found'})
    })
  })

  describe('deleteUser', () => {
    it('refuses to delete the last owner of an organization (user.is_last_owner) and writes nothing', async () => {
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'sole@example.com'})
      const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Sole', slug: 'sole', owner: user.id})
      const before = await t.core.audit.latestSeq()
      await expect(t.core.users.deleteUser(OPERATOR, user.id)).rejects.toMatchObject({code: 'user.is_last_owner', details: {orgs: ['sole']}})
      expect((await t.core.users.showUser(user.id)).memberships).toEqual([{orgId: org.id, orgSlug: 'sole', orgName: 'Sole', role: 'owner'}])
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it('refuses to delete a disabled user who is still the last owner', async () => {
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'sole-disabled@example.com'})
      await t.core.orgs.createOrg(OPERATOR, {name: 'Sole Disabled', slug: 'sole-disabled', owner: user.id})
      await t.core.users.disableUser(OPERATOR, user.id)
      await expect(t.core.users.deleteUser(OPERATOR, user.id)).rejects.toMatchObject({code: 'user.is_last_owner'})
    })

    it('deletes an owner when another owner remains, with their memberships', async () => {
      const {user: first} = await t.core.users.createUser(OPERATOR, {email: 'co-owner-1@example.com'})
      const {user: second} = await t.core.users.createUser(OPERATOR, {email: 'co-owner-2@example.com'})
      await t.core.orgs.createOrg(OPERATOR, {name: 'Co Owned', slug: 'co-owned', owner: first.id})
      await t.core.members.addMember(OPERATOR, 'co-owned', second.id, 'owner')
      const before = await t.core.audit.latestSeq()
      const deleted = await t.core.users.deleteUser(OPERATOR, first.email)
      expect(deleted.id).toBe(first.id)
      await expect(t.core.users.showUser(first.id)).rejects.toMatchObject({code: 'user.not_found'})
      expect((await t.core.members.listMembers('co-owned')).map((member) => [member.userId, member.role])).toEqual([[second.id, 'owner']])
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({action: 'user.deleted', target: {type: 'user', id: first.id}, metadata: {email: first.email, memberships_removed: 1}})
      // The second is now the last owner.
      await expect(t.core.users.deleteUser(OPERATOR, second.id)).rejects.toMatchObject({code: 'user.is_last_owner'})
    })

    it('deletes a user who owns nothing and frees their email', async () => {
      const {user} = await t.core.users.createUser(OPERATOR, {email: 'leaving@example.com'})
      await t.core.users.deleteUser(OPERATOR, user.id)
      expect(await readUserRow('leaving@example.com')).toBeUndefined()
      const {created} = await t.core.users.createUser(OPERATOR, {email: 'leaving@example.com'})
      expect(created).toBe(true)
      await expect(t.core.users.deleteUser(OPERATOR, 'nobody-here@example.com')).rejects.toMatchObject({code: 'user.not_found'})
    })
  })
})
