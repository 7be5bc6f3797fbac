import {sql} from 'kysely'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import * as membershipRepo from '../../../src/access/membership-repo.js'
import {SYSTEM_ACTOR} from '../../../src/access/principal.js'
import {createCore, type Core} from '../../../src/core.js'
import type {DialectName} from '../../../src/db/database-url.js'
import {startRevocationFollower, type RevocationFollower} from '../../../src/identity/revocation-follower.js'
import type {TokenSet} from '../../../src/identity/session-issuance.js'
import type {IssueAccessTokenInput} from '../../../src/security/access-tokens.js'
import type {Clock} from '../../../src/security/clock.js'
import {createTestDatabase, describeEachDialect} from '../../helpers/test-database.js'
import {FAST_PASSWORD_HASHER, OPERATOR, testConfig} from '../../helpers/test-core.js'
import {CONTEXT, createIdentityTestCore, createPasswordUser, PASSWORD, type IdentityTestCore} from './identity-fixture.js'

// Login, refresh and switch-org read the member's role in a transaction and sign the access
// token after it commits. A removal or demotion that commits in between dates its membership
// revocation after the read; the token must count as issued at the read, so that revocation
// covers it (introspection: inactive), instead of at the signing, after it.

// Lets a test pause the first membership read after `armPause()` (the login's, inside its
// transaction) until `release()`; every other read goes straight through.
const pause = vi.hoisted(() => ({armed: false, reached: null as null | (() => void), gate: null as null | Promise<void>}))
vi.mock('../../../src/access/membership-repo.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/access/membership-repo.js')>()
  return {
    ...original,
    async findMembershipRole(...args: Parameters<typeof original.findMembershipRole>) {
      const result = await original.findMembershipRole(...args)
      if (pause.armed) {
        pause.armed = false
        pause.reached?.()
        await pause.gate
      }
      return result
    },
  }
})

/**
 * Runs `removal` while `signIn` has read the membership, inside its transaction, and has not
 * committed yet: `removal` either waits for it (a lock) or, without one, commits first.
 */
async function removeDuringMembershipRead<T>(signIn: () => Promise<T>, removal: () => Promise<unknown>, isWaitingForLock: () => Promise<boolean>, maxWaitMs: number): Promise<T> {
  let release!: () => void
  let reached!: () => void
  const hasReached = new Promise<void>((resolve) => (reached = resolve))
  pause.gate = new Promise<void>((resolve) => (release = resolve))
  pause.reached = reached
  pause.armed = true
  const signingIn = signIn()
  await hasReached
  let removed = false
  const removing = removal().then(() => (removed = true))
  // Wait until the removal has either committed or is blocked behind the sign-in's transaction.
  for (let waited = 0; waited < maxWaitMs && !removed && !(await isWaitingForLock()); waited += 20) await new Promise((resolve) => setTimeout(resolve, 20))
  release()
  const result = await signingIn
  await removing
  return result
}

/** The token still names its session, but its org binding is void: introspection reports it inactive. */
async function expectBindingRevoked(core: Core, accessToken: string): Promise<void> {
  expect(await core.authenticator.authenticate(accessToken)).toMatchObject({isOrgBindingRevoked: true})
  expect(core.revocations.findRevocation(await core.tokens.verify(accessToken))).toBe('membership_revoked')
}

/** A clock that moves 1 ms at every reading, like a wall clock between statements: no two events share a time. */
function tickingClock(start: Date): Clock {
  let current = start.getTime()
  return {now: () => new Date(current++)}
}

describeEachDialect('membership changes racing token issuance', (dialect: DialectName) => {
  describe('the issue time is the time of the membership read', () => {
    let t: IdentityTestCore
    beforeEach(async () => {
      t = await createIdentityTestCore(dialect)
    })
    afterEach(async () => {
      await t?.close()
    })

    /** Removes or demotes the member, a second later, between the service's commit and its signing of the token. */
    function changeMembershipBeforeSigning(change: () => Promise<unknown>): void {
      const issue = t.core.tokens.issue.bind(t.core.tokens)
      let done = false
      t.core.tokens.issue = async (input: IssueAccessTokenInput) => {
        if (!done) {
          done = true
          t.clock.advance(1_000)
          await change()
          t.clock.advance(1_000)
        }
        return issue(input)
      }
    }

    async function memberOfAcme(role = 'admin') {
      const owner = await createPasswordUser(t.core, OPERATOR, 'race-owner')
      const user = await createPasswordUser(t.core, OPERATOR, 'race-member')
      const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Acme', slug: `acme-${Math.random().toString(36).slice(2, 8)}`, owner: owner.id})
      await t.core.members.addMember(OPERATOR, {org: org.id, user: user.id, role})
      return {user, org}
    }

    it('login: a removal between the read and the signing voids the token', async () => {
      const {user, org} = await memberOfAcme()
      changeMembershipBeforeSigning(() => t.core.members.removeMember(OPERATOR, {org: org.id, user: user.id}))
      const tokens = await t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD, org: org.slug})
      await t.follower.syncNow()
      await expectBindingRevoked(t.core, tokens.accessToken)
    })

    it('refresh: a demotion between the read and the signing voids the token carrying the old role', async () => {
      const {user, org} = await memberOfAcme()
      const first: TokenSet = await t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD, org: org.slug})
      t.clock.advance(1_000)
      changeMembershipBeforeSigning(() => t.core.members.setMemberRole(OPERATOR, {org: org.id, user: user.id, role: 'viewer'}))
      const refreshed = await t.core.sessions.refresh(CONTEXT, {refreshToken: first.refreshToken})
      await t.follower.syncNow()
      await expectBindingRevoked(t.core, refreshed.accessToken)
      // The next refresh reads the new role and is valid.
      const again = await t.core.sessions.refresh(CONTEXT, {refreshToken: refreshed.refreshToken})
      expect(await t.core.authenticator.authenticate(again.accessToken)).toMatchObject({orgId: org.id, role: 'viewer', isOrgBindingRevoked: false})
    })

    it('switch-org: a removal between the read and the signing voids the token', async () => {
      const {user, org} = await memberOfAcme()
      const unbound = await t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})
      const auth = await t.core.authenticator.authenticate(unbound.accessToken)
      changeMembershipBeforeSigning(() => t.core.members.removeMember(OPERATOR, {org: org.id, user: user.id}))
      const switched = await t.core.sessions.switchOrg(auth, CONTEXT, {org: org.slug})
      await t.follower.syncNow()
      await expectBindingRevoked(t.core, switched.accessToken)
    })
  })

  // On Postgres the org and membership rows are read FOR SHARE: a removal or an org deletion that
  // starts after the read waits for the login to commit, and dates its revocation after the
  // token. Without the lock it commits while the login is still open, before the login takes
  // its issue time.
  const changesAfterTheRead = [
    {
      change: 'a removal',
      run: (core: Core, orgId: string, userId: string) => core.members.removeMember(OPERATOR, {org: orgId, user: userId}),
      expectVoided: async (core: Core, accessToken: string, orgId: string, userId: string) => {
        await expectBindingRevoked(core, accessToken)
        expect(await membershipRepo.findMembershipRole(core.database.db, orgId, userId)).toBeNull()
      },
    },
    {
      change: 'an org deletion',
      run: (core: Core, orgId: string) => core.orgs.deleteOrg(OPERATOR, {org: orgId}),
      expectVoided: async (core: Core, accessToken: string) => {
        expect(await core.authenticator.authenticate(accessToken)).toMatchObject({isOrgBindingRevoked: true})
        expect(core.revocations.findRevocation(await core.tokens.verify(accessToken))).toBe('org_revoked')
      },
    },
  ]
  it.each(changesAfterTheRead)('login: $change starting after the membership read orders after the login and voids its token', async ({run, expectVoided}) => {
    const database = await createTestDatabase(dialect)
    const clock = tickingClock(new Date('2026-01-01T00:00:00.000Z'))
    let core: Core | undefined
    let follower: RevocationFollower | undefined
    try {
      core = await createCore({config: testConfig(database.url), cwd: process.cwd(), clock, passwords: FAST_PASSWORD_HASHER, schema: 'migrate'})
      const ready = core
      await ready.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
      follower = await startRevocationFollower({db: ready.database.db, cache: ready.revocations, clock, pollMilliseconds: 50})
      const owner = await createPasswordUser(ready, OPERATOR, 'lock-owner')
      const user = await createPasswordUser(ready, OPERATOR, 'lock-member')
      const {org} = await ready.orgs.createOrg(OPERATOR, {name: 'Locked', slug: 'locked', owner: owner.id})
      await ready.members.addMember(OPERATOR, {org: org.id, user: user.id, role: 'admin'})
      // Another connection of this database waiting on a row lock: the change, behind the login.
      const isWaitingForLock = async () =>
        dialect === 'postgres' &&
        ((await sql<{count: number}>`select count(*)::int as count from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(ready.database.db)).rows[0]?.count ?? 0) > 0
      const tokens = await removeDuringMembershipRead(
        () => ready.sessions.login(CONTEXT, {email: user.email, password: PASSWORD, org: 'locked'}),
        () => run(ready, org.id, user.id),
        isWaitingForLock,
        // SQLite runs one write transaction at a time: the change is queued behind the login at once.
        dialect === 'postgres' ? 5_000 : 200,
      )
      await follower.syncNow()
      await expectVoided(ready, tokens.accessToken, org.id, user.id)
    } finally {
      await follower?.stop()
      await core?.close()
      await database.drop()
    }
  })
})
