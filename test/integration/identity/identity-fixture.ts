import {expect} from 'vitest'
import type {Actor} from '../../../src/access/principal.js'
import {SYSTEM_ACTOR} from '../../../src/access/principal.js'
import {createCore, type Core} from '../../../src/core.js'
import type {DialectName} from '../../../src/db/database-url.js'
import type {RevocationCache} from '../../../src/identity/revocation-cache.js'
import {startRevocationFollower, type RevocationFollower} from '../../../src/identity/revocation-follower.js'
import type {RequestContext, TokenSet} from '../../../src/identity/session-service.js'
import type {AuthContext} from '../../../src/identity/token-authenticator.js'
import type {FixedClock} from '../../../src/security/clock.js'
import type {PasswordHasher} from '../../../src/security/password-hasher.js'
import {createTestCore, FAST_PASSWORD_HASHER, testConfig, type TestCore} from '../../helpers/test-core.js'

export const PASSWORD = 'correct horse battery staple'
export const CONTEXT: RequestContext = {ip: '203.0.113.7', userAgent: 'vitest identity suite', requestId: 'req-identity'}

export const SECOND = 1000
export const ACCESS_TOKEN_TTL_MS = 900 * SECOND
export const REFRESH_TOKEN_TTL_MS = 2_592_000 * SECOND

/** A core with an active signing key, and a revocation follower feeding its own cache. */
export interface IdentityTestCore extends TestCore {
  follower: RevocationFollower
}

export async function createIdentityTestCore(dialect: DialectName, settings: Parameters<typeof createTestCore>[1] = {}): Promise<IdentityTestCore> {
  const t = await createTestCore(dialect, settings)
  try {
    await t.core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
    const follower = await followRevocations(t.core, t.core.revocations, t.clock)
    return {
      ...t,
      follower,
      async close() {
        await follower.stop()
        await t.close()
      },
    }
  } catch (error) {
    await t.close()
    throw error
  }
}

/** What a daemon process does at start: load active revocations, then follow the log. */
export function followRevocations(core: Core, cache: RevocationCache, clock: FixedClock): Promise<RevocationFollower> {
  return startRevocationFollower({db: core.database.db, cache, clock, pollMilliseconds: 50})
}

/** Another process on the same database and clock (a second daemon, or the CLI). */
export interface SecondProcess {
  core: Core
  follower: RevocationFollower
  close(): Promise<void>
}

export async function openSecondProcess(t: TestCore, options: {passwords?: PasswordHasher} = {}): Promise<SecondProcess> {
  const core = await createCore({config: testConfig(t.database.url), cwd: process.cwd(), clock: t.clock, passwords: options.passwords ?? FAST_PASSWORD_HASHER})
  const follower = await followRevocations(core, core.revocations, t.clock)
  return {
    core,
    follower,
    async close() {
      await follower.stop()
      await core.close()
    },
  }
}

let counter = 0
/** A fresh email address, unique within the test run. */
export function uniqueEmail(prefix: string): string {
  counter += 1
  return `${prefix}-${counter}@example.com`
}

/** A user with a password and no organization (so it can also be deleted). */
export async function createPasswordUser(core: Core, actor: Actor, prefix: string) {
  const {user} = await core.users.createUser(actor, {email: uniqueEmail(prefix), name: prefix, password: PASSWORD})
  return user
}

/** Logs in and authenticates the access token at once: the caller as a route would see them. */
export async function loginAs(core: Core, email: string, org?: string): Promise<{tokens: TokenSet; auth: AuthContext}> {
  const tokens = await core.sessions.login(CONTEXT, {email, password: PASSWORD, ...(org ? {org} : {})})
  return {tokens, auth: await core.authenticator.authenticate(tokens.accessToken)}
}

/** The access token is refused with auth.invalid_token and one of the reasons. */
export async function expectTokenRefused(core: Core, accessToken: string, reason: string | RegExp): Promise<void> {
  await expect(core.authenticator.authenticate(accessToken)).rejects.toMatchObject({
    code: 'auth.invalid_token',
    details: {reason: typeof reason === 'string' ? reason : expect.stringMatching(reason)},
  })
}

/** Revoked by its session or by the user's "not before" time: whichever check comes first. */
export const SESSION_OR_USER_REVOKED = /^(session|user)_revoked$/

export async function auditActionsAfter(core: Core, afterSeq: number, action?: string): Promise<string[]> {
  return (await core.audit.listEventsAfter({afterSeq, ...(action ? {action} : {})})).map((event) => event.action)
}
