import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {Actor} from '../../src/access/principal.js'
import {computeEventHash} from '../../src/audit/audit-hash.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

/**
 * A user acting through the daemon: everything about them must reach the log. A platform admin
 * (inserted by insertPlatformAdmin), so every mutation below is theirs to make.
 */
const USER_ACTOR: Actor = {principal: {kind: 'user', userId: 'user-actor-id', sessionId: '', boundOrgId: null, email: 'alice@example.com'}, origin: {ip: '203.0.113.7', userAgent: 'audit-test/1.0', requestId: 'req-42'}}

/** A platform admin with a fixed id, written straight to the table so that it leaves no audit event of its own. */
async function insertPlatformAdmin(t: TestCore, id: string, email: string): Promise<void> {
  const now = t.clock.now().toISOString()
  await t.core.database.db
    .insertInto('user_account')
    .values({id, email, name: null, password_hash: null, is_platform_admin: 1, email_verified_at: null, password_changed_at: null, disabled_at: null, created_at: now, updated_at: now})
    .execute()
}

describeEachDialect('audit log', (dialect) => {
  describe('what each mutation writes', () => {
    let t: TestCore
    beforeAll(async () => {
      t = await createTestCore(dialect)
      await insertPlatformAdmin(t, 'user-actor-id', 'alice@example.com')
    })
    afterAll(async () => t?.close())

    it('writes exactly one event per mutation, with actor, org, target and metadata', async () => {
      const {core} = t
      const ids: Record<string, string> = {}
      type Step = {label: string; run: () => Promise<unknown>; action: string; orgId: () => string | null; target: () => {type: string; id: string | null} | null; metadata?: Record<string, unknown>}
      const steps: Step[] = [
        {label: 'createUser', run: async () => (ids.user = (await core.users.createUser(USER_ACTOR, {email: 'Bob@Example.com', password: 'a long password'})).user.id), action: 'user.created', orgId: () => null, target: () => ({type: 'user', id: ids.user ?? null}), metadata: {email: 'bob@example.com', has_password: true}},
        {label: 'createUser (owner)', run: async () => (ids.owner = (await core.users.createUser(USER_ACTOR, {email: 'owner@example.com'})).user.id), action: 'user.created', orgId: () => null, target: () => ({type: 'user', id: ids.owner ?? null})},
        {label: 'updateUser', run: () => core.users.updateUser(USER_ACTOR, {user: 'bob@example.com', name: 'Bob'}), action: 'user.updated', orgId: () => null, target: () => ({type: 'user', id: ids.user ?? null}), metadata: {changes: {name: {from: null, to: 'Bob'}}}},
        {label: 'createOrg', run: async () => (ids.org = (await core.orgs.createOrg(USER_ACTOR, {name: 'Audited', slug: 'audited'})).org.id), action: 'org.created', orgId: () => ids.org ?? null, target: () => ({type: 'org', id: ids.org ?? null}), metadata: {slug: 'audited', name: 'Audited', tier: 'free'}},
        {label: 'updateOrg', run: () => core.orgs.updateOrg(USER_ACTOR, {org: 'audited', tier: 'basic'}), action: 'org.updated', orgId: () => ids.org ?? null, target: () => ({type: 'org', id: ids.org ?? null}), metadata: {changes: {tier: {from: 'free', to: 'basic'}}}},
        {label: 'addMember (owner)', run: () => core.members.addMember(USER_ACTOR, {org: 'audited', user: 'owner@example.com', role: 'owner'}), action: 'member.added', orgId: () => ids.org ?? null, target: () => ({type: 'user', id: ids.owner ?? null}), metadata: {role: 'owner'}},
        {label: 'addMember', run: () => core.members.addMember(USER_ACTOR, {org: 'audited', user: 'bob@example.com', role: 'viewer'}), action: 'member.added', orgId: () => ids.org ?? null, target: () => ({type: 'user', id: ids.user ?? null}), metadata: {email: 'bob@example.com', role: 'viewer'}},
        {label: 'setMemberRole', run: () => core.members.setMemberRole(USER_ACTOR, {org: 'audited', user: 'bob@example.com', role: 'member'}), action: 'member.role_updated', orgId: () => ids.org ?? null, target: () => ({type: 'user', id: ids.user ?? null}), metadata: {from: 'viewer', to: 'member'}},
        {label: 'createRole', run: async () => (ids.role = (await core.roles.createRole(USER_ACTOR, {org: 'audited', key: 'auditor', name: 'Auditor', permissions: ['audit.read']})).id), action: 'role.created', orgId: () => ids.org ?? null, target: () => ({type: 'role', id: ids.role ?? null}), metadata: {key: 'auditor', permissions: ['audit.read']}},
        {label: 'updateRole', run: () => core.roles.updateRole(USER_ACTOR, {org: 'audited', role: 'auditor', level: 2}), action: 'role.updated', orgId: () => ids.org ?? null, target: () => ({type: 'role', id: ids.role ?? null}), metadata: {key: 'auditor', changes: {level: {from: 1, to: 2}}}},
        {label: 'deleteRole', run: () => core.roles.deleteRole(USER_ACTOR, {org: 'audited', role: 'auditor'}), action: 'role.deleted', orgId: () => ids.org ?? null, target: () => ({type: 'role', id: ids.role ?? null}), metadata: {key: 'auditor'}},
        {label: 'createFlag', run: async () => (ids.flag = (await core.flags.createFlag(USER_ACTOR, {key: 'audited-flag'})).flag.id), action: 'flag.created', orgId: () => null, target: () => ({type: 'flag', id: ids.flag ?? null}), metadata: {key: 'audited-flag'}},
        {label: 'setFlag', run: () => core.flags.setFlag(USER_ACTOR, {key: 'audited-flag', rolloutPercentage: 20}), action: 'flag.updated', orgId: () => null, target: () => ({type: 'flag', id: ids.flag ?? null}), metadata: {changes: {rollout: {from: null, to: 20}}}},
        {label: 'toggleFlag', run: () => core.flags.toggleFlag(USER_ACTOR, {key: 'audited-flag'}), action: 'flag.updated', orgId: () => null, target: () => ({type: 'flag', id: ids.flag ?? null}), metadata: {changes: {default: {from: 'off', to: 'on'}}}},
        {label: 'setOverride', run: () => core.flags.setOverride(USER_ACTOR, {key: 'audited-flag', org: 'audited', value: 'on'}), action: 'flag.override_set', orgId: () => ids.org ?? null, target: () => ({type: 'flag', id: ids.flag ?? null}), metadata: {from: 'clear', to: 'on'}},
        {label: 'deleteFlag', run: () => core.flags.deleteFlag(USER_ACTOR, {key: 'audited-flag'}), action: 'flag.deleted', orgId: () => null, target: () => ({type: 'flag', id: ids.flag ?? null}), metadata: {overrides_removed: 1}},
        {label: 'removeMember', run: () => core.members.removeMember(USER_ACTOR, {org: 'audited', user: 'bob@example.com'}), action: 'member.removed', orgId: () => ids.org ?? null, target: () => ({type: 'user', id: ids.user ?? null}), metadata: {role: 'member'}},
        {label: 'disableUser', run: () => core.users.disableUser(USER_ACTOR, {user: 'bob@example.com'}), action: 'user.disabled', orgId: () => null, target: () => ({type: 'user', id: ids.user ?? null})},
        {label: 'enableUser', run: () => core.users.enableUser(USER_ACTOR, {user: 'bob@example.com'}), action: 'user.enabled', orgId: () => null, target: () => ({type: 'user', id: ids.user ?? null})},
        {label: 'deleteOrg', run: () => core.orgs.deleteOrg(USER_ACTOR, {org: 'audited'}), action: 'org.deleted', orgId: () => ids.org ?? null, target: () => ({type: 'org', id: ids.org ?? null})},
        {label: 'restoreOrg', run: () => core.orgs.restoreOrg(USER_ACTOR, {org: 'audited'}), action: 'org.restored', orgId: () => ids.org ?? null, target: () => ({type: 'org', id: ids.org ?? null})},
        {label: 'purgeOrg', run: () => core.orgs.purgeOrg(USER_ACTOR, {org: 'audited'}), action: 'org.purged', orgId: () => ids.org ?? null, target: () => ({type: 'org', id: ids.org ?? null}), metadata: {removed: {memberships: 1, customRoles: 0, flagOverrides: 0}}},
        {label: 'deleteUser', run: () => core.users.deleteUser(USER_ACTOR, {user: 'bob@example.com'}), action: 'user.deleted', orgId: () => null, target: () => ({type: 'user', id: ids.user ?? null})},
      ]
      for (const step of steps) {
        t.clock.advance(1000)
        const before = await core.audit.latestSeq()
        await step.run()
        const events = await core.audit.listEventsAfter({afterSeq: before})
        expect(events, step.label).toHaveLength(1)
        expect(events[0], step.label).toMatchObject({
          seq: before + 1,
          action: step.action,
          orgId: step.orgId(),
          actor: {type: 'user', id: 'user-actor-id', name: 'alice@example.com'},
          target: step.target(),
          metadata: step.metadata ?? {},
          ip: USER_ACTOR.origin.ip,
          userAgent: USER_ACTOR.origin.userAgent,
          requestId: USER_ACTOR.origin.requestId,
          createdAt: t.clock.now().toISOString(),
        })
      }
      expect(await core.audit.verifyChain()).toEqual({isIntact: true, checkedEvents: steps.length})
    })

    it('writes no event for a failing operation', async () => {
      const {core} = t
      await core.users.createUser(OPERATOR, {email: 'sole-owner@example.com'})
      await core.users.createUser(OPERATOR, {email: 'off@example.com'})
      await core.users.disableUser(OPERATOR, {user: 'off@example.com'})
      await core.orgs.createOrg(OPERATOR, {name: 'Failing', slug: 'failing', owner: 'sole-owner@example.com'})
      await core.flags.createFlag(OPERATOR, {key: 'failing-flag'})
      const failures: [string, () => Promise<unknown>, string][] = [
        ['duplicate org', () => core.orgs.createOrg(OPERATOR, {name: 'Failing', slug: 'failing'}), 'org.slug_taken'],
        ['org with unknown owner', () => core.orgs.createOrg(OPERATOR, {name: 'Nobody', slug: 'nobody', owner: 'ghost@example.com'}), 'user.not_found'],
        ['duplicate user', () => core.users.createUser(OPERATOR, {email: 'SOLE-OWNER@example.com'}), 'user.email_taken'],
        ['disabled member', () => core.members.addMember(OPERATOR, {org: 'failing', user: 'off@example.com', role: 'member'}), 'user.disabled'],
        ['existing member', () => core.members.addMember(OPERATOR, {org: 'failing', user: 'sole-owner@example.com', role: 'member'}), 'member.exists'],
        ['demote last owner', () => core.members.setMemberRole(OPERATOR, {org: 'failing', user: 'sole-owner@example.com', role: 'admin'}), 'member.last_owner'],
        ['remove last owner', () => core.members.removeMember(OPERATOR, {org: 'failing', user: 'sole-owner@example.com'}), 'member.last_owner'],
        ['delete last owner', () => core.users.deleteUser(OPERATOR, {user: 'sole-owner@example.com'}), 'user.is_last_owner'],
        ['unknown permission', () => core.roles.createRole(OPERATOR, {org: 'failing', key: 'x-role', name: 'X', permissions: ['x.y']}), 'permission.unknown'],
        ['builtin role', () => core.roles.deleteRole(OPERATOR, {org: 'failing', role: 'admin'}), 'role.builtin_immutable'],
        ['duplicate flag', () => core.flags.createFlag(OPERATOR, {key: 'failing-flag'}), 'flag.key_taken'],
        ['restore live org', () => core.orgs.restoreOrg(OPERATOR, {org: 'failing'}), 'org.not_deleted'],
      ]
      const before = await core.audit.latestSeq()
      for (const [label, attempt, code] of failures) {
        await expect(attempt(), label).rejects.toMatchObject({code})
      }
      expect(await core.audit.latestSeq()).toBe(before)
      expect(await core.audit.verifyChain()).toMatchObject({isIntact: true, checkedEvents: before})
    })

    it('writes the event in the same transaction as the change: a caller\'s rollback removes both', async () => {
      const {core} = t
      const before = await core.audit.latestSeq()
      await expect(
        core.database.db.transaction().execute(async (trx) => {
          await core.users.createUser(OPERATOR, {email: 'rolled-back@example.com'}, trx)
          await core.orgs.createOrg(OPERATOR, {name: 'Rolled Back', slug: 'rolled-back', owner: 'rolled-back@example.com'}, trx)
          const inside = await trx.selectFrom('audit_event').select('action').where('seq', '>', before).orderBy('seq').execute()
          expect(inside.map((row) => row.action)).toEqual(['user.created', 'org.created', 'member.added'])
          throw new Error('abort')
        }),
      ).rejects.toThrow('abort')
      expect(await core.audit.latestSeq()).toBe(before)
      await expect(core.users.showUser(OPERATOR, {user: 'rolled-back@example.com'})).rejects.toMatchObject({code: 'user.not_found'})
      await expect(core.orgs.showOrg(OPERATOR, {org: 'rolled-back'})).rejects.toMatchObject({code: 'org.not_found'})
    })

    it('keeps the chain gapless and intact under concurrent writers', async () => {
      const {core} = t
      const before = await core.audit.latestSeq()
      await Promise.all(Array.from({length: 12}, (_, index) => core.users.createUser(OPERATOR, {email: `concurrent-${index}@example.com`})))
      const events = await core.audit.listEventsAfter({afterSeq: before})
      expect(events.map((event) => event.seq)).toEqual(Array.from({length: 12}, (_, index) => before + index + 1))
      expect(await core.audit.verifyChain()).toEqual({isIntact: true, checkedEvents: before + 12})
    })
  })

  describe('verifyChain', () => {
    let t: TestCore
    beforeEach(async () => {
      t = await createTestCore(dialect)
      for (const slug of ['one', 'two', 'three', 'four', 'five']) {
        t.clock.advance(1000)
        await t.core.orgs.createOrg(OPERATOR, {name: slug, slug})
      }
    })
    afterEach(async () => t?.close())

    async function eventAt(seq: number) {
      return t.core.database.db.selectFrom('audit_event').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow()
    }

    it('reports an untouched log as intact, counting every event', async () => {
      expect(await t.core.audit.verifyChain()).toEqual({isIntact: true, checkedEvents: 5})
      // Batching does not change the verdict.
      expect(await t.core.audit.verifyChain(2)).toEqual({isIntact: true, checkedEvents: 5})
    })

    it('reports an empty log as intact', async () => {
      await t.core.database.db.deleteFrom('audit_event').execute()
      expect(await t.core.audit.verifyChain()).toEqual({isIntact: true, checkedEvents: 0})
    })

    it('reports the event whose metadata was changed in the database', async () => {
      const target = await eventAt(3)
      await t.core.database.db.updateTable('audit_event').set({metadata: JSON.stringify({slug: 'forged'})}).where('seq', '=', 3).execute()
      expect(await t.core.audit.verifyChain()).toMatchObject({isIntact: false, checkedEvents: 2, brokenAt: {seq: 3, id: target.id}})
      expect(await t.core.audit.verifyChain(2)).toMatchObject({isIntact: false, brokenAt: {seq: 3, id: target.id}})
    })

    it.each([
      ['actor_name', {actor_name: 'someone-else'}],
      ['action', {action: 'org.updated'}],
      ['org_id', {org_id: 'another-org'}],
      ['created_at', {created_at: '2025-06-01T00:00:00.000Z'}],
      ['ip', {ip: '198.51.100.1'}],
    ] as const)('reports the event whose %s was changed', async (_field, change) => {
      const target = await eventAt(2)
      await t.core.database.db.updateTable('audit_event').set(change).where('seq', '=', 2).execute()
      expect(await t.core.audit.verifyChain()).toMatchObject({isIntact: false, checkedEvents: 1, brokenAt: {seq: 2, id: target.id}})
    })

    it('reports the next event when a forger also recomputes the changed event\'s hash', async () => {
      const target = await eventAt(2)
      const next = await eventAt(3)
      const forged = {...target, metadata: JSON.stringify({slug: 'forged'})}
      const {hash: _old, ...content} = forged
      await t.core.database.db.updateTable('audit_event').set({metadata: forged.metadata, hash: computeEventHash(content)}).where('seq', '=', 2).execute()
      expect(await t.core.audit.verifyChain()).toMatchObject({isIntact: false, checkedEvents: 2, brokenAt: {seq: 3, id: next.id}})
    })

    it('reports a deleted middle event (at the event that follows the gap)', async () => {
      const next = await eventAt(4)
      await t.core.database.db.deleteFrom('audit_event').where('seq', '=', 3).execute()
      expect(await t.core.audit.verifyChain()).toMatchObject({isIntact: false, checkedEvents: 2, brokenAt: {seq: 4, id: next.id}})
    })

    it('reports a deleted first event', async () => {
      const second = await eventAt(2)
      await t.core.database.db.deleteFrom('audit_event').where('seq', '=', 1).execute()
      expect(await t.core.audit.verifyChain()).toMatchObject({isIntact: false, checkedEvents: 0, brokenAt: {seq: 2, id: second.id}})
    })
  })

  describe('filters', () => {
    let t: TestCore
    const ALICE: Actor = {principal: {kind: 'user', userId: 'alice-id', sessionId: '', boundOrgId: null, email: 'alice@example.com'}, origin: {}}
    const BOB: Actor = {principal: {kind: 'user', userId: 'bob-id', sessionId: '', boundOrgId: null, email: 'bob@example.com'}, origin: {}}
    let orgA = ''
    let orgB = ''
    let middle = ''
    beforeAll(async () => {
      t = await createTestCore(dialect)
      await insertPlatformAdmin(t, 'alice-id', 'alice@example.com')
      await insertPlatformAdmin(t, 'bob-id', 'bob@example.com')
      orgA = (await t.core.orgs.createOrg(ALICE, {name: 'Filter A', slug: 'filter-a'})).org.id // seq 1, 00:00:00
      t.clock.advance(60_000)
      orgB = (await t.core.orgs.createOrg(BOB, {name: 'Filter B', slug: 'filter-b'})).org.id // seq 2, 00:01:00
      t.clock.advance(60_000)
      middle = t.clock.now().toISOString()
      await t.core.users.createUser(ALICE, {email: 'carol@example.com'}) // seq 3, 00:02:00
      t.clock.advance(60_000)
      await t.core.orgs.updateOrg(BOB, {org: 'filter-a', name: 'Filter A2'}) // seq 4, 00:03:00
      t.clock.advance(60_000)
      await t.core.members.addMember(ALICE, {org: 'filter-b', user: 'carol@example.com', role: 'member'}) // seq 5, 00:04:00
    })
    afterAll(async () => t?.close())

    const seqs = (events: {seq: number}[]) => events.map((event) => event.seq)

    it('lists the newest events, oldest first, up to the limit', async () => {
      expect(seqs(await t.core.audit.listEvents({}, 100))).toEqual([1, 2, 3, 4, 5])
      expect(seqs(await t.core.audit.listEvents({}, 2))).toEqual([4, 5])
      expect(await t.core.audit.latestSeq()).toBe(5)
    })

    it('filters by organization', async () => {
      expect(seqs(await t.core.audit.listEvents({orgId: orgA}, 100))).toEqual([1, 4])
      expect(seqs(await t.core.audit.listEvents({orgId: orgB}, 100))).toEqual([2, 5])
    })

    it('filters by actor id or actor name', async () => {
      expect(seqs(await t.core.audit.listEvents({actor: 'alice-id'}, 100))).toEqual([1, 3, 5])
      expect(seqs(await t.core.audit.listEvents({actor: 'bob@example.com'}, 100))).toEqual([2, 4])
      expect(await t.core.audit.listEvents({actor: 'mallory'}, 100)).toEqual([])
    })

    it('filters by exact action and by an `x.*` prefix', async () => {
      expect(seqs(await t.core.audit.listEvents({action: 'org.created'}, 100))).toEqual([1, 2])
      expect(seqs(await t.core.audit.listEvents({action: 'org.*'}, 100))).toEqual([1, 2, 4])
      expect(seqs(await t.core.audit.listEvents({action: 'member.*'}, 100))).toEqual([5])
      expect(await t.core.audit.listEvents({action: 'org'}, 100)).toEqual([])
      expect(await t.core.audit.listEvents({action: 'org.create'}, 100)).toEqual([])
    })

    it('matches actions case-sensitively, exact or by prefix, the same on every dialect', async () => {
      expect(await t.core.audit.listEvents({action: 'ORG.created'}, 100)).toEqual([])
      expect(await t.core.audit.listEvents({action: 'ORG.*'}, 100)).toEqual([])
    })

    it('filters by time: since is inclusive', async () => {
      expect(seqs(await t.core.audit.listEvents({since: middle}, 100))).toEqual([3, 4, 5])
      expect(seqs(await t.core.audit.listEvents({since: '2026-01-01T00:03:30.000Z'}, 100))).toEqual([5])
      expect(await t.core.audit.listEvents({since: '2027-01-01T00:00:00.000Z'}, 100)).toEqual([])
    })

    it.each([
      ['without milliseconds', '2026-01-01T00:02:00Z'],
      ['with a time-zone offset', '2026-01-01T01:02:00.000+01:00'],
    ])('filters by time given as ISO %s the same on every dialect', async (_label, since) => {
      // 00:02:00Z is exactly the time of event 3.
      expect(seqs(await t.core.audit.listEvents({since}, 100))).toEqual([3, 4, 5])
    })

    it('filters by position (afterSeq), for followers', async () => {
      expect(seqs(await t.core.audit.listEventsAfter({afterSeq: 0}))).toEqual([1, 2, 3, 4, 5])
      expect(seqs(await t.core.audit.listEventsAfter({afterSeq: 3}))).toEqual([4, 5])
      expect(seqs(await t.core.audit.listEventsAfter({afterSeq: 1}, 2))).toEqual([2, 3])
      expect(await t.core.audit.listEventsAfter({afterSeq: 5})).toEqual([])
      expect(seqs(await t.core.audit.listEvents({afterSeq: 2}, 100))).toEqual([3, 4, 5])
    })

    it('combines filters', async () => {
      expect(seqs(await t.core.audit.listEvents({actor: 'alice-id', action: 'org.*'}, 100))).toEqual([1])
      expect(seqs(await t.core.audit.listEvents({orgId: orgA, since: middle}, 100))).toEqual([4])
      expect(seqs(await t.core.audit.listEventsAfter({afterSeq: 1, actor: 'bob-id', orgId: orgB}))).toEqual([2])
      expect(await t.core.audit.listEventsAfter({afterSeq: 2, actor: 'bob-id', orgId: orgB})).toEqual([])
    })
  })
})
