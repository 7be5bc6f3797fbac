import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {PERMISSION_KEYS} from '../../../src/access/permission-catalog.js'
import {createCore} from '../../../src/core.js'
import {createFixedClock} from '../../../src/security/clock.js'
import {createTestCore, FAST_PASSWORD_HASHER, OPERATOR, testConfig, type TestCore} from '../../helpers/test-core.js'
import {createTestDatabase, describeEachDialect} from '../../helpers/test-database.js'
import {createTenancyFixtures} from './tenancy-fixtures.js'

describeEachDialect('orgs as principals see them', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())
  const {newUser, actorOf, seedOrg, insertApiKey, countRows} = createTenancyFixtures(() => t)

  async function orgCount(): Promise<number> {
    return (await t.core.orgs.listOrgs(OPERATOR, {includeDeleted: true})).length
  }

  describe('createOrg', () => {
    it('by a user makes them its owner, audited as theirs', async () => {
      const ada = await newUser('ada')
      const before = await t.core.audit.latestSeq()
      const {org, created} = await t.core.orgs.createOrg(actorOf(ada, null), {name: 'Ada Labs'})
      expect(created).toBe(true)
      expect(org).toMatchObject({slug: 'ada-labs', tier: 'free', domain: null})
      const {items} = await t.core.members.listMembers(OPERATOR, {org: org.id})
      expect(items.map((member) => [member.userId, member.role])).toEqual([[ada.id, 'owner']])
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events.map((event) => [event.action, event.actor.type, event.actor.id, event.target?.id])).toEqual([
        ['org.created', 'user', ada.id, org.id],
        ['member.added', 'user', ada.id, ada.id],
      ])
      expect(await t.core.orgs.describeAccess(actorOf(ada, org.id), {org: org.slug})).toEqual({org, role: 'owner', permissions: [...PERMISSION_KEYS].sort()})
    })

    it('lets a user name themselves as owner (by id or email), as registration does', async () => {
      const bea = await newUser('bea')
      await t.core.orgs.createOrg(actorOf(bea, null), {name: 'Bea One', owner: bea.id})
      await t.core.orgs.createOrg(actorOf(bea, null), {name: 'Bea Two', owner: bea.email.toUpperCase()})
      const mine = await t.core.orgs.listOrgs(actorOf(bea, null))
      expect(mine.map((org) => [org.slug, org.role])).toEqual([['bea-one', 'owner'], ['bea-two', 'owner']])
    })

    it('refuses a user a tier or another owner (existing or not) with platform.required, writing nothing', async () => {
      const cal = await newUser('cal')
      const other = await newUser('other')
      const before = {seq: await t.core.audit.latestSeq(), orgs: await orgCount()}
      for (const input of [
        {name: 'Cal Tier', tier: 'enterprise' as const},
        {name: 'Cal Free Tier', tier: 'free' as const},
        {name: 'Cal Other', owner: other.id},
        {name: 'Cal Ghost', owner: 'ghost@example.com'},
      ]) {
        await expect(t.core.orgs.createOrg(actorOf(cal, null), input), input.name).rejects.toMatchObject({code: 'platform.required'})
      }
      expect({seq: await t.core.audit.latestSeq(), orgs: await orgCount()}).toEqual(before)
    })

    it('refuses an org API key (platform.required); a platform key creates with a tier and no owner', async () => {
      const {org} = await seedOrg('key-home', {owner: 'owner'})
      const orgKey = await insertApiKey(org.id, ['org.read', 'org.update'])
      await expect(t.core.orgs.createOrg(orgKey, {name: 'By Org Key'})).rejects.toMatchObject({code: 'platform.required'})
      const platformKey = await insertApiKey(null, [])
      const {org: created} = await t.core.orgs.createOrg(platformKey, {name: 'By Platform Key', tier: 'premium'})
      expect(created.tier).toBe('premium')
      expect(await countRows('membership', created.id)).toBe(0)
    })

    it('with ifNotExists returns an existing org only to its members', async () => {
      const dee = await newUser('dee')
      const eve = await newUser('eve')
      const {org} = await t.core.orgs.createOrg(actorOf(dee, null), {name: 'Dee Co', slug: 'dee-co'})
      expect(await t.core.orgs.createOrg(actorOf(dee, null), {name: 'Dee Co', slug: 'dee-co', ifNotExists: true})).toEqual({org, created: false})
      await expect(t.core.orgs.createOrg(actorOf(eve, null), {name: 'Dee Co', slug: 'dee-co', ifNotExists: true})).rejects.toMatchObject({code: 'org.slug_taken'})
    })
  })

  describe('listOrgs', () => {
    it("shows a user only their live orgs, with their role; platform principals see all; an org key its own", async () => {
      const a = await seedOrg('list-mine', {owner: 'owner', viewer: 'viewer'})
      const b = await seedOrg('list-theirs', {owner: 'owner'})
      await t.core.members.addMember(OPERATOR, {org: b.org.id, user: a.users.viewer!.id, role: 'admin'})
      const gone = await seedOrg('list-gone', {owner: 'owner'})
      await t.core.members.addMember(OPERATOR, {org: gone.org.id, user: a.users.viewer!.id, role: 'member'})
      await t.core.orgs.deleteOrg(OPERATOR, {org: gone.org.id})

      const viewerOrgs = await t.core.orgs.listOrgs(a.boundTo('viewer', null))
      expect(viewerOrgs.map((org) => [org.slug, org.role, org.memberCount])).toEqual([['list-mine', 'viewer', 2], ['list-theirs', 'admin', 2]])
      expect((await t.core.orgs.listOrgs(a.as('owner'))).map((org) => org.slug)).toEqual(['list-mine'])
      // A user cannot widen their view with includeDeleted.
      expect((await t.core.orgs.listOrgs(a.boundTo('viewer', null), {includeDeleted: true})).map((org) => org.slug)).toEqual(['list-mine', 'list-theirs'])

      const all = await t.core.orgs.listOrgs(OPERATOR, {includeDeleted: true})
      expect(all.map((org) => org.slug)).toEqual(expect.arrayContaining(['list-mine', 'list-theirs', 'list-gone']))
      expect(all.every((org) => org.role === undefined)).toBe(true)
      const key = await insertApiKey(b.org.id, ['org.read'])
      expect((await t.core.orgs.listOrgs(key)).map((org) => org.slug)).toEqual(['list-theirs'])
    })
  })

  describe('showOrg and describeAccess', () => {
    it('answer a member bound to the org; org.not_found to outsiders as for a missing org; auth.org_mismatch to a member bound elsewhere', async () => {
      const {org, as, boundTo, users} = await seedOrg('show-org', {owner: 'owner', viewer: 'viewer'})
      const elsewhere = await seedOrg('show-elsewhere', {owner: 'owner'})
      expect(await t.core.orgs.showOrg(as('viewer'), {org: 'show-org'})).toMatchObject({id: org.id, memberCount: 2})
      expect(await t.core.orgs.showOrg(as('viewer'), {org: org.id})).toMatchObject({slug: 'show-org'})
      const outsider = elsewhere.as('owner')
      await expect(t.core.orgs.showOrg(outsider, {org: 'show-org'})).rejects.toMatchObject({code: 'org.not_found'})
      await expect(t.core.orgs.showOrg(outsider, {org: 'no-such-org'})).rejects.toMatchObject({code: 'org.not_found'})
      await expect(t.core.orgs.describeAccess(outsider, {org: org.id})).rejects.toMatchObject({code: 'org.not_found'})
      await expect(t.core.orgs.showOrg(boundTo('viewer', elsewhere.org.id), {org: 'show-org'})).rejects.toMatchObject({code: 'auth.org_mismatch'})
      await expect(t.core.orgs.showOrg(boundTo('viewer', null), {org: 'show-org'})).rejects.toMatchObject({code: 'auth.org_mismatch'})

      const access = await t.core.orgs.describeAccess(as('viewer'), {org: 'show-org'})
      expect(access).toMatchObject({org: {id: org.id}, role: 'viewer', permissions: ['flags.read', 'members.read', 'org.read', 'roles.read']})
      // Read now: a promotion shows on the next call, whatever the token said.
      await t.core.members.setMemberRole(OPERATOR, {org: org.id, user: users.viewer!.id, role: 'member'})
      expect((await t.core.orgs.describeAccess(as('viewer'), {org: 'show-org'})).role).toBe('member')
      expect(await t.core.orgs.describeAccess(OPERATOR, {org: 'show-org'})).toMatchObject({role: null, permissions: [...PERMISSION_KEYS]})
    })
  })

  describe('updateOrg', () => {
    it('lets a holder of org.update rename; tier and domain are platform.required; no permission is permission.denied', async () => {
      const {org, as} = await seedOrg('upd-org', {owner: 'owner', admin: 'admin', member: 'member'})
      expect((await t.core.orgs.updateOrg(as('admin'), {org: 'upd-org', name: 'Renamed'})).name).toBe('Renamed')
      const before = await t.core.audit.latestSeq()
      await expect(t.core.orgs.updateOrg(as('member'), {org: 'upd-org', name: 'Nope'})).rejects.toMatchObject({code: 'permission.denied'})
      await expect(t.core.orgs.updateOrg(as('owner'), {org: 'upd-org', tier: 'enterprise'})).rejects.toMatchObject({code: 'platform.required'})
      await expect(t.core.orgs.updateOrg(as('owner'), {org: 'upd-org', domain: 'login.upd.example'})).rejects.toMatchObject({code: 'platform.required'})
      await expect(t.core.orgs.updateOrg(as('owner'), {org: 'upd-org', name: 'Also Nope', domain: null})).rejects.toMatchObject({code: 'platform.required'})
      expect(await t.core.audit.latestSeq()).toBe(before)
      expect(await t.core.orgs.showOrg(OPERATOR, {org: org.id})).toMatchObject({name: 'Renamed', tier: 'free', domain: null})
    })

    it('sets a unique domain (operators), normalized; a taken one is org.domain_taken; null or empty clears it', async () => {
      const first = await seedOrg('dom-first', {owner: 'owner'})
      const second = await seedOrg('dom-second', {owner: 'owner'})
      const updated = await t.core.orgs.updateOrg(OPERATOR, {org: 'dom-first', domain: 'Login.Acme.Example.'})
      expect(updated.domain).toBe('login.acme.example')
      const events = await t.core.audit.listEvents({orgId: first.org.id, action: 'org.updated'}, 10)
      expect(events.at(-1)?.metadata).toEqual({changes: {domain: {from: null, to: 'login.acme.example'}}})

      const before = await t.core.audit.latestSeq()
      await expect(t.core.orgs.updateOrg(OPERATOR, {org: 'dom-second', domain: 'login.acme.example'})).rejects.toMatchObject({code: 'org.domain_taken'})
      await expect(t.core.orgs.updateOrg(OPERATOR, {org: 'dom-second', domain: 'LOGIN.acme.example'})).rejects.toMatchObject({code: 'org.domain_taken'})
      for (const domain of ['not a host', 'nodot', 'a..b.example', `${'x'.repeat(64)}.example`]) {
        await expect(t.core.orgs.updateOrg(OPERATOR, {org: 'dom-second', domain}), domain).rejects.toMatchObject({code: 'validation.failed'})
      }
      expect(await t.core.audit.latestSeq()).toBe(before)
      expect((await t.core.orgs.showOrg(OPERATOR, {org: second.org.id})).domain).toBeNull()
      // Setting the same domain again changes nothing.
      await t.core.orgs.updateOrg(OPERATOR, {org: 'dom-first', domain: 'login.acme.example'})
      expect(await t.core.audit.latestSeq()).toBe(before)

      expect((await t.core.orgs.updateOrg(OPERATOR, {org: 'dom-first', domain: ''})).domain).toBeNull()
      expect((await t.core.orgs.updateOrg(OPERATOR, {org: 'dom-second', domain: 'login.acme.example'})).domain).toBe('login.acme.example')
      expect((await t.core.orgs.updateOrg(OPERATOR, {org: 'dom-second', domain: null})).domain).toBeNull()
      expect((await t.core.orgs.showOrg(OPERATOR, {org: second.org.id})).domain).toBeNull()
    })

    it('of two concurrent claims of one domain, one wins and the other gets org.domain_taken', async () => {
      await seedOrg('race-a', {owner: 'owner'})
      await seedOrg('race-b', {owner: 'owner'})
      const results = await Promise.allSettled(['race-a', 'race-b'].map((org) => t.core.orgs.updateOrg(OPERATOR, {org, domain: 'race.example'})))
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      expect(results.find((result) => result.status === 'rejected')?.reason).toMatchObject({code: 'org.domain_taken'})
    })
  })
})

describeEachDialect('allow_user_org_creation = false', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    const database = await createTestDatabase(dialect)
    const clock = createFixedClock(new Date('2026-01-01T00:00:00.000Z'))
    const core = await createCore({config: testConfig(database.url, {allowUserOrgCreation: false}), cwd: process.cwd(), clock, passwords: FAST_PASSWORD_HASHER, schema: 'migrate'})
    t = {core, clock, database, close: async () => (await core.close(), await database.drop())}
  })
  afterAll(async () => t?.close())
  const {newUser, actorOf} = createTenancyFixtures(() => t)

  it('refuses a user with org.creation_disabled and writes nothing; operators and platform admins still create', async () => {
    const user = await newUser('closed')
    const before = await t.core.audit.latestSeq()
    await expect(t.core.orgs.createOrg(actorOf(user, null), {name: 'Closed Shop'})).rejects.toMatchObject({code: 'org.creation_disabled'})
    expect(await t.core.audit.latestSeq()).toBe(before)
    expect((await t.core.orgs.createOrg(OPERATOR, {name: 'Operator Shop'})).created).toBe(true)
    const {user: admin} = await t.core.users.createUser(OPERATOR, {email: 'platform-admin@example.com', isPlatformAdmin: true})
    expect((await t.core.orgs.createOrg(actorOf(admin, null), {name: 'Admin Shop', owner: user.id})).created).toBe(true)
  })

  it("still makes a new user's personal org at registration (the personal option), with them as owner", async () => {
    const user = await newUser('registrant')
    const {org} = await t.core.orgs.createOrg(actorOf(user, null), {name: 'Registrant Workspace', owner: user.id}, undefined, {personal: true})
    expect((await t.core.orgs.describeAccess(actorOf(user, org.id), {org: org.id})).role).toBe('owner')
  })
})
