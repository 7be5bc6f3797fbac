import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Actor} from '../../../src/access/principal.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {createTenancyFixtures, type SeededOrg} from './tenancy-fixtures.js'

describeEachDialect("an org's flags and audit log, read by its principals", (dialect) => {
  let t: TestCore
  let acme: SeededOrg
  let globex: SeededOrg
  beforeAll(async () => {
    t = await createTestCore(dialect)
    acme = await seedOrg('acme', {owner: 'owner', admin: 'admin', viewer: 'viewer', limited: 'viewer'})
    globex = await seedOrg('globex', {owner: 'owner'})
    await t.core.roles.createRole(OPERATOR, {org: 'acme', key: 'no-flags', name: 'No flags', permissions: ['org.read']})
    await t.core.members.setMemberRole(OPERATOR, {org: 'acme', user: acme.users.limited!.id, role: 'no-flags'})
  })
  afterAll(async () => t?.close())
  const {seedOrg, insertApiKey} = createTenancyFixtures(() => t)

  describe('evaluateFlagsForOrg and evaluateFlagForOrg', () => {
    beforeAll(async () => {
      await t.core.flags.createFlag(OPERATOR, {key: 'beta', defaultEnabled: false})
      await t.core.flags.createFlag(OPERATOR, {key: 'dark-mode', defaultEnabled: true})
      await t.core.flags.createFlag(OPERATOR, {key: 'half', rolloutPercentage: 50})
      await t.core.flags.setOverride(OPERATOR, {key: 'beta', org: 'acme', value: 'on'})
      await t.core.flags.setOverride(OPERATOR, {key: 'dark-mode', org: 'globex', value: 'off'})
    })

    it("evaluates every flag for the org with that org's overrides only, the same as one by one", async () => {
      const values = await t.core.flags.evaluateFlagsForOrg(acme.as('viewer'), {org: 'acme'})
      expect(values.map((value) => [value.flag, value.enabled, value.reason])).toEqual([
        ['beta', true, 'override'],
        ['dark-mode', true, 'default'],
        ['half', values[2]!.bucket! <= 50, 'rollout'],
      ])
      expect(values.every((value) => value.orgId === acme.org.id)).toBe(true)
      for (const value of values) {
        expect(await t.core.flags.evaluateFlagForOrg(acme.as('viewer'), {org: acme.org.id, key: value.flag.toUpperCase()})).toEqual(value)
      }
      const theirs = await t.core.flags.evaluateFlagsForOrg(globex.as('owner'), {org: 'globex'})
      expect(theirs.map((value) => [value.flag, value.enabled, value.reason]).slice(0, 2)).toEqual([
        ['beta', false, 'default'],
        ['dark-mode', false, 'override'],
      ])
      await expect(t.core.flags.evaluateFlagForOrg(acme.as('viewer'), {org: 'acme', key: 'no-such-flag'})).rejects.toMatchObject({code: 'flag.not_found'})
    })

    it('refuses outsiders (org.not_found), members bound elsewhere (auth.org_mismatch) and roles without flags.read (permission.denied)', async () => {
      const refusals: [string, Actor, string][] = [
        ['member of another org', globex.as('owner'), 'org.not_found'],
        ['bound to another org', acme.boundTo('viewer', globex.org.id), 'auth.org_mismatch'],
        ['custom role without flags.read', acme.as('limited'), 'permission.denied'],
      ]
      for (const [label, actor, code] of refusals) {
        await expect(t.core.flags.evaluateFlagsForOrg(actor, {org: 'acme'}), label).rejects.toMatchObject({code})
        await expect(t.core.flags.evaluateFlagForOrg(actor, {org: 'acme', key: 'beta'}), label).rejects.toMatchObject({code})
      }
      await expect(t.core.flags.evaluateFlagsForOrg(globex.as('owner'), {org: 'no-such-org'})).rejects.toMatchObject({code: 'org.not_found'})
    })

    it("serves an org API key with flags.read on its own org only", async () => {
      const key = await insertApiKey(acme.org.id, ['flags.read'])
      expect((await t.core.flags.evaluateFlagsForOrg(key, {org: 'acme'})).length).toBe(3)
      await expect(t.core.flags.evaluateFlagsForOrg(key, {org: 'globex'})).rejects.toMatchObject({code: 'org.not_found'})
      const withoutIt = await insertApiKey(acme.org.id, ['org.read'])
      await expect(t.core.flags.evaluateFlagsForOrg(withoutIt, {org: 'acme'})).rejects.toMatchObject({code: 'permission.denied'})
    })

    it('keeps flag definitions and overrides to platform principals, even for owners', async () => {
      const owner = acme.as('owner')
      const before = await t.core.audit.latestSeq()
      const attempts: [string, () => Promise<unknown>][] = [
        ['createFlag', () => t.core.flags.createFlag(owner, {key: 'owner-flag'})],
        ['setFlag', () => t.core.flags.setFlag(owner, {key: 'beta', defaultEnabled: true})],
        ['toggleFlag', () => t.core.flags.toggleFlag(owner, {key: 'beta'})],
        ['setOverride', () => t.core.flags.setOverride(owner, {key: 'beta', org: 'acme', value: 'off'})],
        ['deleteFlag', () => t.core.flags.deleteFlag(owner, {key: 'beta'})],
        ['listFlags', () => t.core.flags.listFlags(owner)],
        ['showFlag', () => t.core.flags.showFlag(owner, {key: 'beta'})],
      ]
      for (const [label, attempt] of attempts) await expect(attempt(), label).rejects.toMatchObject({code: 'platform.required'})
      expect(await t.core.audit.latestSeq()).toBe(before)
      expect((await t.core.flags.evaluateFlagForOrg(owner, {org: 'acme', key: 'beta'})).reason).toBe('override')
    })
  })

  describe('listOrgEvents', () => {
    let acmeEvents: number[] = []
    beforeAll(async () => {
      // Interleave events of both orgs, and an org-less one, by different actors.
      t.clock.advance(60_000)
      await t.core.orgs.updateOrg(acme.as('owner'), {org: 'acme', name: 'Acme Two'})
      await t.core.orgs.updateOrg(globex.as('owner'), {org: 'globex', name: 'Globex Two'})
      await t.core.users.createUser(OPERATOR, {email: 'unrelated@example.com'})
      t.clock.advance(60_000)
      await t.core.roles.createRole(acme.as('admin'), {org: 'acme', key: 'helper', name: 'Helper', permissions: ['org.read']})
      await t.core.orgs.updateOrg(acme.as('admin'), {org: 'acme', name: 'Acme Three'})
      acmeEvents = (await t.core.audit.listEvents({orgId: acme.org.id}, 1000)).map((event) => event.seq).reverse()
    })

    it("lists only the org's events, newest first, a page at a time", async () => {
      const admin = acme.as('admin')
      const all = await t.core.audit.listOrgEvents(admin, {org: 'acme', limit: 200})
      expect(all.items.map((event) => event.seq)).toEqual(acmeEvents)
      expect(all.items.every((event) => event.orgId === acme.org.id)).toBe(true)
      expect(all.nextCursor).toBeNull()

      const pages: number[][] = []
      let cursor: string | undefined
      do {
        const page = await t.core.audit.listOrgEvents(admin, {org: acme.org.id, limit: 3, cursor})
        pages.push(page.items.map((event) => event.seq))
        cursor = page.nextCursor ?? undefined
      } while (cursor)
      expect(pages.flat()).toEqual(acmeEvents)
      expect(pages.slice(0, -1).every((page) => page.length === 3)).toBe(true)
      expect((await t.core.audit.listOrgEvents(admin, {org: 'acme'})).items).toHaveLength(Math.min(50, acmeEvents.length))
    })

    it('filters by action (exact or family), actor (id or name) and since', async () => {
      const admin = acme.as('admin')
      const seqsOf = async (query: Record<string, string>) => (await t.core.audit.listOrgEvents(admin, {org: 'acme', ...query})).items.map((event) => [event.action, event.actor.id])
      const ownerId = acme.users.owner!.id
      const adminId = acme.users.admin!.id
      expect(await seqsOf({action: 'org.updated'})).toEqual([['org.updated', adminId], ['org.updated', ownerId]])
      expect(await seqsOf({action: 'role.*'})).toEqual([['role.created', adminId], ['role.created', 'test-operator']])
      expect(await seqsOf({actor: adminId})).toEqual([['org.updated', adminId], ['role.created', adminId]])
      expect(await seqsOf({actor: 'test-operator', action: 'org.*'})).toEqual([['org.created', 'test-operator']])
      expect(await seqsOf({since: t.clock.now().toISOString()})).toEqual([['org.updated', adminId], ['role.created', adminId]])
    })

    it('refuses readers without audit.read, outsiders, and malformed queries', async () => {
      await expect(t.core.audit.listOrgEvents(acme.as('viewer'), {org: 'acme'})).rejects.toMatchObject({code: 'permission.denied'})
      await expect(t.core.audit.listOrgEvents(globex.as('owner'), {org: 'acme'})).rejects.toMatchObject({code: 'org.not_found'})
      await expect(t.core.audit.listOrgEvents(acme.boundTo('admin', globex.org.id), {org: 'acme'})).rejects.toMatchObject({code: 'auth.org_mismatch'})
      for (const query of [{limit: 0}, {limit: 201}, {cursor: 'abc'}, {since: 'yesterday'}, {action: 'ORG.*'}]) {
        await expect(t.core.audit.listOrgEvents(acme.as('admin'), {org: 'acme', ...query}), JSON.stringify(query)).rejects.toMatchObject({code: 'validation.failed'})
      }
    })

    it('is what an org API key with audit.read sees too', async () => {
      const key = await insertApiKey(globex.org.id, ['audit.read'])
      const {items} = await t.core.audit.listOrgEvents(key, {org: 'globex'})
      expect(items.length).toBeGreaterThan(0)
      expect(items.every((event) => event.orgId === globex.org.id)).toBe(true)
    })
  })
})
