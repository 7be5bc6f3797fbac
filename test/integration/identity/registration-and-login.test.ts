import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createPasswordHasher} from '../../../src/security/password-hasher.js'
import {OPERATOR} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {auditActionsAfter, CONTEXT, createIdentityTestCore, createPasswordUser, loginAs, openSecondProcess, PASSWORD, uniqueEmail, type IdentityTestCore} from './identity-fixture.js'

describeEachDialect('identity: register and login', (dialect) => {
  let t: IdentityTestCore
  beforeAll(async () => {
    t = await createIdentityTestCore(dialect)
  })
  afterAll(async () => t?.close())

  async function storedPasswordHash(userId: string): Promise<string | null> {
    const row = await t.core.database.db.selectFrom('user_account').select('password_hash').where('id', '=', userId).executeTakeFirstOrThrow()
    return row.password_hash
  }

  /** The argon2 cost parameters a PHC string was made with ($argon2id$v=19$m=…,p=…,t=…$…). */
  function hashParameters(hash: string | null): Record<string, number> {
    const segment = hash?.split('$')[3] ?? ''
    return Object.fromEntries(segment.split(',').map((pair) => [pair.split('=')[0], Number(pair.split('=')[1])]))
  }

  async function counts() {
    return {
      users: (await t.core.users.listUsers(OPERATOR)).length,
      orgs: (await t.core.orgs.listOrgs(OPERATOR, {includeDeleted: true})).length,
      sessions: await t.core.sessions.countActiveSessions(),
      audit: await t.core.audit.latestSeq(),
    }
  }

  describe('register', () => {
    it('creates the user, a personal organization they own, and tokens bound to it with role owner', async () => {
      const before = await t.core.audit.latestSeq()
      const email = uniqueEmail('Ann').toUpperCase()
      const {user, org, tokens} = await t.core.sessions.register(CONTEXT, {email, password: PASSWORD, name: 'Ann'})

      expect(user).toMatchObject({email: email.toLowerCase(), name: 'Ann', status: 'active'})
      expect(Object.keys(user)).not.toContain('passwordHash')
      expect(JSON.stringify(user)).not.toContain('argon2')
      expect((await t.core.members.listMembers(OPERATOR, {org: org.id})).items).toEqual([expect.objectContaining({userId: user.id, role: 'owner'})])
      expect(await storedPasswordHash(user.id)).toMatch(/^\$argon2id\$/)

      expect(tokens).toMatchObject({tokenType: 'Bearer', expiresIn: 900})
      expect(tokens.refreshToken.length).toBeGreaterThanOrEqual(43)
      expect(await t.core.authenticator.authenticate(tokens.accessToken)).toMatchObject({userId: user.id, sessionId: tokens.sessionId, orgId: org.id, role: 'owner'})
      expect(await t.core.sessions.listSessions(OPERATOR, {user: user.id})).toEqual([expect.objectContaining({id: tokens.sessionId, orgId: org.id, ip: CONTEXT.ip, userAgent: CONTEXT.userAgent})])

      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events.map((event) => event.action)).toEqual(['user.created', 'org.created', 'member.added', 'session.created'])
      expect(events.find((event) => event.action === 'session.created')).toMatchObject({orgId: org.id, target: {type: 'session', id: tokens.sessionId}, actor: {type: 'user', id: user.id}})
    })

    it('uses org_name for the personal organization when given', async () => {
      const {user, org} = await t.core.sessions.register(CONTEXT, {email: uniqueEmail('named'), password: PASSWORD, orgName: 'Acme Rockets'})
      expect(org).toMatchObject({name: 'Acme Rockets', slug: 'acme-rockets'})
      expect((await t.core.sessions.me(await t.core.authenticator.authenticate((await loginAs(t.core, user.email)).tokens.accessToken))).memberships).toEqual([
        {orgId: org.id, orgSlug: 'acme-rockets', orgName: 'Acme Rockets', role: 'owner'},
      ])
    })

    it('gives a second personal organization with the same name a free slug', async () => {
      const first = await t.core.sessions.register(CONTEXT, {email: uniqueEmail('twin'), password: PASSWORD, orgName: 'Twin Peaks'})
      const second = await t.core.sessions.register(CONTEXT, {email: uniqueEmail('twin'), password: PASSWORD, orgName: 'Twin Peaks'})
      expect(first.org.slug).toBe('twin-peaks')
      expect(second.org.slug).not.toBe('twin-peaks')
      expect(second.org.slug.startsWith('twin-peaks-')).toBe(true)
    })

    it('refuses a taken email (in any case) with user.email_taken and writes nothing', async () => {
      const email = uniqueEmail('taken')
      await t.core.sessions.register(CONTEXT, {email, password: PASSWORD})
      const before = await counts()
      await expect(t.core.sessions.register(CONTEXT, {email: ` ${email.toUpperCase()} `, password: 'another password', orgName: 'Second Try'})).rejects.toMatchObject({code: 'user.email_taken'})
      expect(await counts()).toEqual(before)
      expect((await t.core.orgs.listOrgs(OPERATOR)).some((org) => org.slug === 'second-try')).toBe(false)
    })

    it('of two concurrent registrations with one email, exactly one succeeds and the other leaves nothing behind', async () => {
      const email = uniqueEmail('concurrent')
      const before = await counts()
      const results = await Promise.allSettled([
        t.core.sessions.register(CONTEXT, {email, password: PASSWORD, orgName: 'Concurrent One'}),
        t.core.sessions.register(CONTEXT, {email, password: PASSWORD, orgName: 'Concurrent Two'}),
      ])
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      expect(results.find((result) => result.status === 'rejected')?.reason).toMatchObject({code: 'user.email_taken'})
      const after = await counts()
      expect({users: after.users - before.users, orgs: after.orgs - before.orgs, sessions: after.sessions - before.sessions}).toEqual({users: 1, orgs: 1, sessions: 1})
    })

    it('refuses invalid input with validation.failed', async () => {
      await expect(t.core.sessions.register(CONTEXT, {email: 'not-an-email', password: PASSWORD})).rejects.toMatchObject({code: 'validation.failed'})
      await expect(t.core.sessions.register(CONTEXT, {email: uniqueEmail('short'), password: 'short'})).rejects.toMatchObject({code: 'password.too_weak', details: {rule: 'too_short'}})
    })
  })

  describe('login', () => {
    it('opens a session whose token is not bound to an organization', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'plain')
      const before = await t.core.audit.latestSeq()
      const tokens = await t.core.sessions.login(CONTEXT, {email: ` ${user.email.toUpperCase()} `, password: PASSWORD})
      expect(await t.core.authenticator.authenticate(tokens.accessToken)).toMatchObject({userId: user.id, sessionId: tokens.sessionId, orgId: null, role: null})
      expect(await auditActionsAfter(t.core, before)).toEqual(['session.created'])
    })

    it('answers a wrong password and an unknown email alike, with auth.invalid_credentials, and opens no session', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'wrong')
      const before = await counts()
      await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: 'not the password'})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
      await expect(t.core.sessions.login(CONTEXT, {email: uniqueEmail('nobody'), password: PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
      // Nothing changes but the audit trail of the failures (issue 7: failed logins are audited).
      expect({...(await counts()), audit: 0}).toEqual({...before, audit: 0})
      expect(await auditActionsAfter(t.core, before.audit)).toEqual(['security.login_failed', 'security.login_failed'])
    })

    it('refuses a user without a password with auth.invalid_credentials', async () => {
      const {user} = await t.core.users.createUser(OPERATOR, {email: uniqueEmail('nopass')})
      await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
    })

    it('refuses a disabled user with user.disabled (and a wrong password still with auth.invalid_credentials)', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'disabled')
      await t.core.users.disableUser(OPERATOR, {user: user.id})
      const before = await counts()
      await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).rejects.toMatchObject({code: 'user.disabled'})
      await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: 'not the password'})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
      expect({...(await counts()), audit: 0}).toEqual({...before, audit: 0})
      expect(await auditActionsAfter(t.core, before.audit)).toEqual(['security.login_failed'])
      await t.core.users.enableUser(OPERATOR, {user: user.id})
      await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).resolves.toMatchObject({tokenType: 'Bearer'})
    })

    it('with org (slug or id) binds the organization and the role into the access token', async () => {
      const {user, org: personal} = await t.core.sessions.register(CONTEXT, {email: uniqueEmail('bound'), password: PASSWORD})
      const owner = await createPasswordUser(t.core, OPERATOR, 'team-owner')
      const {org: team} = await t.core.orgs.createOrg(OPERATOR, {name: 'Bound Team', slug: 'bound-team', owner: owner.id})
      await t.core.members.addMember(OPERATOR, {org: team.id, user: user.id, role: 'admin'})

      const bySlug = await loginAs(t.core, user.email, 'bound-team')
      expect(bySlug.auth).toMatchObject({userId: user.id, orgId: team.id, role: 'admin'})
      expect(await t.core.sessions.listSessions(OPERATOR, {user: user.id})).toContainEqual(expect.objectContaining({id: bySlug.tokens.sessionId, orgId: team.id}))
      expect((await loginAs(t.core, user.email, team.id)).auth).toMatchObject({orgId: team.id, role: 'admin'})
      expect((await loginAs(t.core, user.email, personal.slug)).auth).toMatchObject({orgId: personal.id, role: 'owner'})
    })

    it('answers an organization the user is not a member of, an unknown one and a deleted one alike (org.not_found), and opens no session', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'outsider')
      const owner = await createPasswordUser(t.core, OPERATOR, 'closed-owner')
      await t.core.orgs.createOrg(OPERATOR, {name: 'Closed', slug: 'closed-club', owner: owner.id})
      const {org: gone} = await t.core.orgs.createOrg(OPERATOR, {name: 'Gone', slug: 'gone-club', owner: user.id})
      await t.core.orgs.deleteOrg(OPERATOR, {org: gone.id})
      const before = await counts()
      const refusals = []
      for (const org of ['closed-club', 'no-such-org', 'gone-club']) {
        const error = await t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD, org}).catch((caught: unknown) => caught)
        expect(error, org).toMatchObject({code: 'org.not_found'})
        refusals.push((error as {details: unknown}).details)
      }
      // Nothing in the answer tells the three apart.
      expect(new Set(refusals.map((details) => JSON.stringify(details ?? null))).size).toBe(1)
      expect(await counts()).toEqual(before)
    })

    it('rehashes a password hashed with other argon2 parameters, once, and the new hash still logs in', async () => {
      // Made by this core's hasher (m=1024, t=1); the second core hashes with m=2048, t=2.
      const user = await createPasswordUser(t.core, OPERATOR, 'rehash')
      const original = await storedPasswordHash(user.id)
      expect(hashParameters(original)).toEqual({m: 1024, t: 1, p: 1})

      const upgraded = await openSecondProcess(t, {passwords: createPasswordHasher({memoryCost: 2048, timeCost: 2, parallelism: 1})})
      try {
        await upgraded.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})
        const rehashed = await storedPasswordHash(user.id)
        expect(rehashed).toMatch(/^\$argon2id\$/)
        expect(hashParameters(rehashed)).toEqual({m: 2048, t: 2, p: 1})
        await upgraded.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})
        expect(await storedPasswordHash(user.id)).toBe(rehashed)
        // A wrong password never rewrites the hash.
        await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: 'not the password'})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
        expect(await storedPasswordHash(user.id)).toBe(rehashed)
      } finally {
        await upgraded.close()
      }
      await t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})
      expect(hashParameters(await storedPasswordHash(user.id))).toEqual({m: 1024, t: 1, p: 1})
    })
  })
})
