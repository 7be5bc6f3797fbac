import {createHash} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {userActor, type Actor} from '../../src/access/principal.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

const SECRET_SHAPE = /^sk_[A-Za-z0-9_-]{43}$/

describeEachDialect('API key service', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  let counter = 0
  const unique = (label: string) => `${label}-${++counter}`

  /** A user holding `role` in the org, acting through a token bound to it. */
  async function memberActor(org: {id: string; slug: string}, role: string): Promise<Actor> {
    const {user} = await t.core.users.createUser(OPERATOR, {email: `${unique(role)}@example.com`})
    if (role !== 'none') await t.core.members.addMember(OPERATOR, {org: org.slug, user: user.id, role})
    return userActor({userId: user.id, sessionId: 'session-of-test', orgId: org.id})
  }

  /** A fresh organization and its owner. */
  async function newOrg(label: string) {
    const slug = unique(label)
    const {user} = await t.core.users.createUser(OPERATOR, {email: `${slug}-owner@example.com`})
    const {org} = await t.core.orgs.createOrg(OPERATOR, {name: slug, slug, owner: user.id})
    return {org, owner: userActor({userId: user.id, sessionId: 'session-of-test', orgId: org.id})}
  }

  /** Acting as the key behind `secret`, from its authenticated principal. */
  async function keyActor(secret: string): Promise<Actor> {
    return {principal: await t.core.apiKeys.authenticate(secret), origin: {}}
  }

  async function keyRowCount(): Promise<number> {
    const row = await t.core.database.db.selectFrom('api_key').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow()
    return Number(row.count)
  }

  describe('createApiKey', () => {
    it('returns the secret once and stores only its SHA-256; the audit event holds no secret', async () => {
      const {org, owner} = await newOrg('create')
      const before = await t.core.audit.latestSeq()
      const {key, secret} = await t.core.apiKeys.createApiKey(owner, {org: org.slug, name: 'ci', role: 'member'})
      expect(secret).toMatch(SECRET_SHAPE)
      expect(key).toMatchObject({orgId: org.id, isPlatform: false, name: 'ci', prefix: secret.slice(0, 10), role: 'member', status: 'active', lastUsedAt: null, revokedAt: null})
      expect(key.permissions).toEqual(['flags.read', 'members.invite', 'members.read', 'org.read', 'roles.read'])
      expect(key.createdBy).toEqual({type: 'user', id: (owner.principal as {userId: string}).userId})

      const row = await t.core.database.db.selectFrom('api_key').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow()
      expect(row.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'))
      expect(JSON.stringify(row)).not.toContain(secret.slice(10))
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events.map((event) => [event.action, event.orgId, event.target])).toEqual([['apikey.created', org.id, {type: 'api_key', id: key.id}]])
      expect(JSON.stringify(events)).not.toContain(secret.slice(10))
    })

    it('makes a key of a permission list that works on its own org only', async () => {
      const {org, owner} = await newOrg('perm-list')
      const other = await newOrg('perm-other')
      const {secret} = await t.core.apiKeys.createApiKey(owner, {org: org.id, name: 'manager', permissions: ['apikeys.manage', 'members.read', 'apikeys.manage']})
      const actor = await keyActor(secret)
      expect(actor.principal).toMatchObject({kind: 'api_key', orgId: org.id, name: 'manager'})
      expect((await t.core.apiKeys.listApiKeys(actor, {org: org.slug})).map((key) => [key.name, key.permissions])).toEqual([['manager', ['apikeys.manage', 'members.read']]])
      await expect(t.core.apiKeys.listApiKeys(actor, {org: other.org.slug})).rejects.toMatchObject({code: 'org.not_found'})
    })

    it('refuses keys holding more than their creator, writing nothing', async () => {
      const {org, owner} = await newOrg('escalate')
      const admin = await memberActor(org, 'admin')
      const member = await memberActor(org, 'member')
      await t.core.roles.createRole(OPERATOR, {org: org.slug, key: 'keymaker', name: 'Key maker', permissions: ['apikeys.manage', 'members.read'], level: 2})
      const keymaker = await memberActor(org, 'keymaker')
      const {secret} = await t.core.apiKeys.createApiKey(owner, {org: org.slug, name: 'list-key', permissions: ['apikeys.manage', 'members.read']})
      const listKey = await keyActor(secret)
      const rows = await keyRowCount()
      const seq = await t.core.audit.latestSeq()

      const attempts: [Actor, Record<string, unknown>, string][] = [
        [admin, {role: 'admin'}, 'role.grant_forbidden'],
        [admin, {role: 'owner'}, 'role.grant_forbidden'],
        [admin, {permissions: ['org.delete']}, 'permission.not_held'],
        [keymaker, {permissions: ['audit.read']}, 'permission.not_held'],
        [keymaker, {role: 'viewer'}, 'permission.not_held'],
        [listKey, {role: 'viewer'}, 'role.grant_forbidden'],
        [listKey, {permissions: ['members.read', 'roles.read']}, 'permission.not_held'],
        [member, {permissions: ['members.read']}, 'permission.denied'],
      ]
      for (const [actor, grant, code] of attempts) {
        await expect(t.core.apiKeys.createApiKey(actor, {org: org.slug, name: unique('attempt'), ...grant}), `${JSON.stringify(grant)}`).rejects.toMatchObject({code})
      }
      expect(await keyRowCount()).toBe(rows)
      expect(await t.core.audit.latestSeq()).toBe(seq)

      // What each holds, they may hand on.
      await expect(t.core.apiKeys.createApiKey(admin, {org: org.slug, name: 'by-admin', role: 'member'})).resolves.toMatchObject({key: {role: 'member'}})
      await expect(t.core.apiKeys.createApiKey(listKey, {org: org.slug, name: 'by-key', permissions: ['members.read']})).resolves.toMatchObject({key: {permissions: ['members.read']}})
      await expect(t.core.apiKeys.createApiKey(owner, {org: org.slug, name: 'by-owner', role: 'owner'})).resolves.toMatchObject({key: {role: 'owner'}})
    })

    it('validates the input: one of role or permissions, known permissions, a future expiry, a unique name', async () => {
      const {org, owner} = await newOrg('validate')
      const other = await newOrg('validate-other')
      const create = (input: Record<string, unknown>) => t.core.apiKeys.createApiKey(owner, {org: org.slug, name: unique('v'), ...input})
      await expect(create({})).rejects.toMatchObject({code: 'validation.failed'})
      await expect(create({role: 'member', permissions: ['org.read']})).rejects.toMatchObject({code: 'validation.failed'})
      await expect(create({permissions: ['org.read', 'nope.nothing']})).rejects.toMatchObject({code: 'permission.unknown', details: {unknown: ['nope.nothing']}})
      await expect(create({role: 'no-such-role'})).rejects.toMatchObject({code: 'role.not_found'})
      await expect(create({role: 'member', expiresAt: '2025-12-31T00:00:00Z'})).rejects.toMatchObject({code: 'validation.failed'})
      await expect(create({role: 'member', expiresAt: 'tomorrow'})).rejects.toMatchObject({code: 'validation.failed'})
      await expect(create({role: 'member', expiresAt: '30d'})).resolves.toMatchObject({key: {expiresAt: new Date(t.clock.now().getTime() + 30 * 86_400_000).toISOString()}})

      await t.core.apiKeys.createApiKey(owner, {org: org.slug, name: 'deploy', role: 'viewer'})
      await expect(t.core.apiKeys.createApiKey(owner, {org: org.slug, name: 'deploy', role: 'viewer'})).rejects.toMatchObject({code: 'apikey.name_taken'})
      await expect(t.core.apiKeys.createApiKey(other.owner, {org: other.org.slug, name: 'deploy', role: 'viewer'})).resolves.toMatchObject({key: {name: 'deploy'}})
    })
  })

  describe('authenticate, expiry and last use', () => {
    it('refuses unknown and malformed secrets with auth.invalid_token', async () => {
      for (const secret of ['sk_', `sk_${'A'.repeat(43)}`, 'sk_short', `sk_${'A'.repeat(44)}`]) {
        await expect(t.core.apiKeys.authenticate(secret)).rejects.toMatchObject({code: 'auth.invalid_token', details: {reason: 'invalid'}})
      }
    })

    it('stops an expired key and records use at most once a minute', async () => {
      const {org, owner} = await newOrg('expiry')
      const {key, secret} = await t.core.apiKeys.createApiKey(owner, {org: org.slug, name: 'short', role: 'viewer', expiresAt: '2h'})
      const lastUsed = async () => (await t.core.apiKeys.listApiKeys(owner, {org: org.slug})).find((listed) => listed.id === key.id)?.lastUsedAt
      const start = t.clock.now().toISOString()
      await t.core.apiKeys.authenticate(secret)
      expect(await lastUsed()).toBe(start)
      t.clock.advance(30_000)
      await t.core.apiKeys.authenticate(secret)
      expect(await lastUsed()).toBe(start)
      t.clock.advance(31_000)
      await t.core.apiKeys.authenticate(secret)
      expect(await lastUsed()).toBe(t.clock.now().toISOString())

      t.clock.advance(2 * 3600_000)
      await expect(t.core.apiKeys.authenticate(secret)).rejects.toMatchObject({code: 'auth.invalid_token', details: {reason: 'expired'}})
      expect(await t.core.apiKeys.introspectApiKey(secret)).toBeNull()
      expect((await t.core.apiKeys.listApiKeys(owner, {org: org.slug}))[0]).toMatchObject({status: 'expired'})
    })
  })

  describe('revokeApiKey', () => {
    it('revokes in the org: the key stops at once, another org’s key id is apikey.not_found', async () => {
      const {org, owner} = await newOrg('revoke')
      const other = await newOrg('revoke-other')
      const {key, secret} = await t.core.apiKeys.createApiKey(owner, {org: org.slug, name: 'doomed', role: 'admin'})
      const {key: foreign} = await t.core.apiKeys.createApiKey(other.owner, {org: other.org.slug, name: 'foreign', role: 'viewer'})
      const actor = await keyActor(secret)
      await expect(t.core.apiKeys.revokeApiKey(owner, {org: org.slug, id: foreign.id})).rejects.toMatchObject({code: 'apikey.not_found'})
      await expect(t.core.apiKeys.revokeApiKey(owner, {id: key.id})).rejects.toMatchObject({code: 'platform.required'})

      const seq = await t.core.audit.latestSeq()
      const revoked = await t.core.apiKeys.revokeApiKey(owner, {org: org.slug, id: key.id})
      expect(revoked).toMatchObject({id: key.id, status: 'revoked', revokedAt: t.clock.now().toISOString()})
      await expect(t.core.apiKeys.authenticate(secret)).rejects.toMatchObject({code: 'auth.invalid_token', details: {reason: 'token_revoked'}})
      // A principal authenticated before the revocation is refused by the very next service call.
      await expect(t.core.apiKeys.listApiKeys(actor, {org: org.slug})).rejects.toMatchObject({code: 'auth.invalid_token'})
      expect(await t.core.apiKeys.introspectApiKey(secret)).toBeNull()

      // Again: nothing changes, nothing is audited.
      await expect(t.core.apiKeys.revokeApiKey(OPERATOR, {id: key.id})).resolves.toMatchObject({status: 'revoked'})
      const events = await t.core.audit.listEventsAfter({afterSeq: seq})
      expect(events.map((event) => [event.action, event.actor.type, event.target?.id])).toEqual([['apikey.revoked', 'user', key.id]])
      await expect(t.core.apiKeys.revokeApiKey(OPERATOR, {id: 'no-such-key'})).rejects.toMatchObject({code: 'apikey.not_found'})
    })
  })

  describe('platform keys', () => {
    it('are made by platform principals only and act on every org', async () => {
      const {org, owner} = await newOrg('platform')
      await expect(t.core.apiKeys.createPlatformKey(owner, {name: 'nope'})).rejects.toMatchObject({code: 'platform.required'})
      const {key, secret} = await t.core.apiKeys.createPlatformKey(OPERATOR, {name: unique('provisioning')})
      expect(key).toMatchObject({orgId: null, isPlatform: true, role: null})
      await expect(t.core.apiKeys.createPlatformKey(OPERATOR, {name: key.name})).rejects.toMatchObject({code: 'apikey.name_taken'})
      const actor = await keyActor(secret)
      expect(actor.principal).toMatchObject({kind: 'api_key', orgId: null})
      await expect(t.core.apiKeys.createApiKey(actor, {org: org.slug, name: 'by-platform', role: 'owner'})).resolves.toMatchObject({key: {role: 'owner'}})
      expect((await t.core.apiKeys.listPlatformKeys(OPERATOR)).map((listed) => listed.id)).toContain(key.id)
      await expect(t.core.apiKeys.listPlatformKeys(owner)).rejects.toMatchObject({code: 'platform.required'})
      expect(await t.core.apiKeys.introspectApiKey(secret)).toMatchObject({orgId: null, isPlatform: true})
    })
  })

  describe('introspection and the org’s lifecycle', () => {
    it('reports a role key’s permissions as the role is now, and nothing once the org is deleted', async () => {
      const {org, owner} = await newOrg('introspect')
      await t.core.roles.createRole(OPERATOR, {org: org.slug, key: 'reader', name: 'Reader', permissions: ['org.read'], level: 1})
      const {key, secret} = await t.core.apiKeys.createApiKey(owner, {org: org.slug, name: 'reader-key', role: 'reader'})
      expect(await t.core.apiKeys.introspectApiKey(secret)).toMatchObject({keyId: key.id, orgId: org.id, isPlatform: false, role: 'reader', permissions: ['org.read']})
      await t.core.roles.updateRole(OPERATOR, {org: org.slug, role: 'reader', permissions: ['org.read', 'flags.read']})
      expect(await t.core.apiKeys.introspectApiKey(secret)).toMatchObject({permissions: ['flags.read', 'org.read']})
      expect((await t.core.apiKeys.listApiKeys(owner, {org: org.slug}))[0]!.permissions).toEqual(['flags.read', 'org.read'])

      await t.core.orgs.deleteOrg(OPERATOR, {org: org.slug})
      expect(await t.core.apiKeys.introspectApiKey(secret)).toBeNull()
      await expect(t.core.apiKeys.listApiKeys(await keyActor(secret), {org: org.slug})).rejects.toMatchObject({code: 'org.not_found'})
    })

    it('purges an org’s keys with it', async () => {
      const {org, owner} = await newOrg('purge')
      await t.core.roles.createRole(OPERATOR, {org: org.slug, key: 'custom', name: 'Custom', permissions: ['org.read'], level: 1})
      await t.core.apiKeys.createApiKey(owner, {org: org.slug, name: 'a', role: 'custom'})
      await t.core.apiKeys.createApiKey(owner, {org: org.slug, name: 'b', permissions: ['org.read']})
      const {removed} = await t.core.orgs.purgeOrg(OPERATOR, {org: org.slug})
      expect(removed).toMatchObject({apiKeys: 2, customRoles: 1})
      expect(await t.core.database.db.selectFrom('api_key').select('id').where('org_id', '=', org.id).execute()).toEqual([])
    })
  })
})
