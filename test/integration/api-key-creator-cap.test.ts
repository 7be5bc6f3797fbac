import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {userActor, type Actor} from '../../src/access/principal.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

// An API key may never hold more than the one who made it holds *now*: a removed, disabled or
// demoted creator takes the power of their keys with them, also through keys made by keys.

const INVALID = {code: 'auth.invalid_token'}

describeEachDialect('API keys capped by their creator', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  let counter = 0
  const unique = (label: string) => `${label}-${++counter}`

  /** A fresh organization, its owner, and members with the given roles, acting through tokens bound to it. */
  async function newOrg(label: string) {
    const slug = unique(label)
    const {user} = await t.core.users.createUser(OPERATOR, {email: `${slug}-owner@example.com`})
    const {org} = await t.core.orgs.createOrg(OPERATOR, {name: slug, slug, owner: user.id})
    const member = async (role: string): Promise<{actor: Actor; userId: string}> => {
      const {user: account} = await t.core.users.createUser(OPERATOR, {email: `${unique(`${slug}-${role}`)}@example.com`})
      await t.core.members.addMember(OPERATOR, {org: slug, user: account.id, role})
      return {actor: userActor({userId: account.id, sessionId: 'session-of-test', orgId: org.id}), userId: account.id}
    }
    return {org, owner: userActor({userId: user.id, sessionId: 'session-of-test', orgId: org.id}), member}
  }

  /** Makes a key as `creator` and acts as it. */
  async function keyOf(creator: Actor, org: string, spec: {role: string} | {permissions: string[]}): Promise<{actor: Actor; id: string; secret: string}> {
    const {key, secret} = await t.core.apiKeys.createApiKey(creator, {org, name: unique('key'), ...spec})
    return {actor: {principal: await t.core.apiKeys.authenticate(secret), origin: {}}, id: key.id, secret}
  }

  const permissionsOf = async (actor: Actor, org: string) => (await t.core.orgs.describeAccess(actor, {org})).permissions

  describe('a user creator', () => {
    it('takes the key down with them when removed: reads, new keys and revocations are refused', async () => {
      const {org, owner, member} = await newOrg('removed')
      const admin = await member('admin')
      const held = await permissionsOf(admin.actor, org.slug)
      const key = await keyOf(admin.actor, org.slug, {permissions: held})
      const ownerKey = await keyOf(owner, org.slug, {permissions: ['org.read']})
      await expect(t.core.members.listMembers(key.actor, {org: org.slug})).resolves.toBeTruthy()

      await t.core.members.removeMember(owner, {org: org.slug, user: admin.userId})
      await expect(t.core.members.listMembers(key.actor, {org: org.slug})).rejects.toMatchObject(INVALID)
      await expect(t.core.apiKeys.createApiKey(key.actor, {org: org.slug, name: 'more', permissions: ['org.read']})).rejects.toMatchObject(INVALID)
      await expect(t.core.apiKeys.revokeApiKey(key.actor, {org: org.slug, id: ownerKey.id})).rejects.toMatchObject(INVALID)
      expect(await t.core.apiKeys.introspectApiKey(key.secret)).toBeNull()
      expect(await t.core.apiKeys.introspectApiKey(ownerKey.secret)).not.toBeNull()
    })

    it('cannot delete the org through an owner-role key once removed as co-owner', async () => {
      const {org, owner, member} = await newOrg('co-owner')
      const coOwner = await member('owner')
      const key = await keyOf(coOwner.actor, org.slug, {role: 'owner'})
      await t.core.members.removeMember(owner, {org: org.slug, user: coOwner.userId})
      await expect(t.core.orgs.deleteOrg(key.actor, {org: org.slug})).rejects.toMatchObject(INVALID)
      expect((await t.core.orgs.showOrg(owner, {org: org.slug})).deletedAt ?? null).toBeNull()
    })

    it('caps the key at the demoted role: permissions intersected, level lowered', async () => {
      const {org, owner, member} = await newOrg('demoted')
      const admin = await member('admin')
      const viewerHolds = await permissionsOf((await member('viewer')).actor, org.slug)
      const key = await keyOf(admin.actor, org.slug, {permissions: await permissionsOf(admin.actor, org.slug)})
      await expect(t.core.apiKeys.listApiKeys(key.actor, {org: org.slug})).resolves.toBeTruthy()

      await t.core.members.setMemberRole(owner, {org: org.slug, user: admin.userId, role: 'viewer'})
      expect(await permissionsOf(key.actor, org.slug)).toEqual(viewerHolds)
      await expect(t.core.members.listMembers(key.actor, {org: org.slug})).resolves.toBeTruthy()
      await expect(t.core.apiKeys.listApiKeys(key.actor, {org: org.slug})).rejects.toMatchObject({code: 'permission.denied'})

      // An owner-role key of a co-owner demoted to admin: no org.delete, and an admin's level.
      const coOwner = await member('owner')
      const ownerKey = await keyOf(coOwner.actor, org.slug, {role: 'owner'})
      await expect(t.core.apiKeys.createApiKey(ownerKey.actor, {org: org.slug, name: unique('admin-by-owner-key'), role: 'admin'})).resolves.toBeTruthy()
      await t.core.members.setMemberRole(owner, {org: org.slug, user: coOwner.userId, role: 'admin'})
      await expect(t.core.apiKeys.createApiKey(ownerKey.actor, {org: org.slug, name: unique('admin-again'), role: 'admin'})).rejects.toMatchObject({code: 'role.grant_forbidden'})
      await expect(t.core.orgs.deleteOrg(ownerKey.actor, {org: org.slug})).rejects.toMatchObject({code: 'permission.denied'})
    })

    it('refuses the key while its creator is disabled or deleted, as it is read on every call', async () => {
      const {org, member} = await newOrg('disabled')
      const admin = await member('admin')
      const key = await keyOf(admin.actor, org.slug, {permissions: ['members.read']})
      await t.core.users.disableUser(OPERATOR, {user: admin.userId})
      await expect(t.core.members.listMembers(key.actor, {org: org.slug})).rejects.toMatchObject(INVALID)
      await t.core.users.enableUser(OPERATOR, {user: admin.userId})
      await expect(t.core.members.listMembers(key.actor, {org: org.slug})).resolves.toBeTruthy()
      await t.core.users.deleteUser(OPERATOR, {user: admin.userId})
      await expect(t.core.members.listMembers(key.actor, {org: org.slug})).rejects.toMatchObject(INVALID)
    })
  })

  describe('a key creator', () => {
    it('caps the keys it makes by its own capped grant, and takes them down when revoked', async () => {
      const {org, owner, member} = await newOrg('chain')
      const coOwner = await member('owner')
      const viewerHolds = await permissionsOf((await member('viewer')).actor, org.slug)
      const parent = await keyOf(coOwner.actor, org.slug, {role: 'owner'})
      const child = await keyOf(parent.actor, org.slug, {role: 'admin'})
      expect(await permissionsOf(child.actor, org.slug)).toContain('apikeys.manage')

      await t.core.members.setMemberRole(owner, {org: org.slug, user: coOwner.userId, role: 'viewer'})
      expect(await permissionsOf(parent.actor, org.slug)).toEqual(viewerHolds)
      expect(await permissionsOf(child.actor, org.slug)).toEqual(viewerHolds)
      await expect(t.core.apiKeys.listApiKeys(child.actor, {org: org.slug})).rejects.toMatchObject({code: 'permission.denied'})

      await t.core.apiKeys.revokeApiKey(owner, {org: org.slug, id: parent.id})
      await expect(t.core.members.listMembers(child.actor, {org: org.slug})).rejects.toMatchObject(INVALID)
    })

    it('follows at most four keys back to the first creator; a longer chain grants nothing', async () => {
      const {org, owner} = await newOrg('long-chain')
      let link = await keyOf(owner, org.slug, {permissions: ['apikeys.manage', 'org.read']})
      for (let hop = 1; hop <= 4; hop++) link = await keyOf(link.actor, org.slug, {permissions: ['apikeys.manage', 'org.read']})
      await expect(t.core.orgs.showOrg(link.actor, {org: org.slug})).resolves.toBeTruthy()
      const tooDeep = await keyOf(link.actor, org.slug, {permissions: ['org.read']})
      await expect(t.core.orgs.showOrg(tooDeep.actor, {org: org.slug})).rejects.toMatchObject(INVALID)
    })
  })

  describe('creators not capped', () => {
    it('leaves operator-made and platform-admin-made keys whole', async () => {
      const {org} = await newOrg('uncapped')
      const operatorKey = await keyOf(OPERATOR, org.slug, {role: 'owner'})
      expect(await permissionsOf(operatorKey.actor, org.slug)).toContain('org.delete')

      const {user} = await t.core.users.createUser(OPERATOR, {email: `${unique('platform')}@example.com`, isPlatformAdmin: true})
      const platformAdmin = userActor({userId: user.id, sessionId: 'session-of-test', orgId: null})
      const adminKey = await keyOf(platformAdmin, org.slug, {role: 'owner'})
      expect(await permissionsOf(adminKey.actor, org.slug)).toContain('org.delete')
      const platformKey = await t.core.apiKeys.createPlatformKey(platformAdmin, {name: unique('platform-key')})
      await expect(t.core.apiKeys.introspectApiKey(platformKey.secret)).resolves.toMatchObject({isPlatform: true})

      // No longer a platform admin (and no member of the org): both keys go with the flag.
      await t.core.database.db.updateTable('user_account').set({is_platform_admin: 0}).where('id', '=', user.id).execute()
      await expect(t.core.orgs.describeAccess(adminKey.actor, {org: org.slug})).rejects.toMatchObject(INVALID)
      expect(await t.core.apiKeys.introspectApiKey(platformKey.secret)).toBeNull()
    })
  })

  describe('revokeApiKey by a tenant', () => {
    it('revokes only keys ranking below the caller unless an owner; permission lists only within what it holds', async () => {
      const {org, owner, member} = await newOrg('revoke-rule')
      const admin = await member('admin')
      const target = async (spec: {role: string} | {permissions: string[]}) => (await keyOf(OPERATOR, org.slug, spec)).id
      for (const role of ['owner', 'admin']) {
        await expect(t.core.apiKeys.revokeApiKey(admin.actor, {org: org.slug, id: await target({role})})).rejects.toMatchObject({code: 'role.grant_forbidden'})
      }
      await expect(t.core.apiKeys.revokeApiKey(admin.actor, {org: org.slug, id: await target({role: 'member'})})).resolves.toMatchObject({status: 'revoked'})
      await expect(t.core.apiKeys.revokeApiKey(owner, {org: org.slug, id: await target({role: 'owner'})})).resolves.toMatchObject({status: 'revoked'})
      await expect(t.core.apiKeys.revokeApiKey(OPERATOR, {org: org.slug, id: await target({role: 'owner'})})).resolves.toMatchObject({status: 'revoked'})

      const manager = await keyOf(owner, org.slug, {permissions: ['apikeys.manage']})
      await expect(t.core.apiKeys.revokeApiKey(manager.actor, {org: org.slug, id: await target({permissions: ['org.read']})})).rejects.toMatchObject({code: 'permission.not_held'})
      await expect(t.core.apiKeys.revokeApiKey(manager.actor, {org: org.slug, id: await target({role: 'viewer'})})).rejects.toMatchObject({code: 'role.grant_forbidden'})
      await expect(t.core.apiKeys.revokeApiKey(manager.actor, {org: org.slug, id: await target({permissions: ['apikeys.manage']})})).resolves.toMatchObject({status: 'revoked'})
      // A key may always give itself up.
      await expect(t.core.apiKeys.revokeApiKey(manager.actor, {org: org.slug, id: manager.id})).resolves.toMatchObject({status: 'revoked'})
    })
  })

  describe('restoreOrg', () => {
    it('is for owners who are users: an owner-role key of a deleted org gets org.not_found', async () => {
      const {org, owner} = await newOrg('restore')
      const key = await keyOf(OPERATOR, org.slug, {role: 'owner'})
      await t.core.orgs.deleteOrg(owner, {org: org.slug})
      await expect(t.core.orgs.restoreOrg(key.actor, {org: org.slug})).rejects.toMatchObject({code: 'org.not_found'})
      await expect(t.core.orgs.restoreOrg(owner, {org: org.slug})).resolves.toMatchObject({deletedAt: null})
    })
  })
})
