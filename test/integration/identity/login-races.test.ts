import {sql} from 'kysely'
import {afterEach, beforeEach, expect, it, vi} from 'vitest'
import type {DialectName} from '../../../src/db/database-url.js'
import {OPERATOR} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {CONTEXT, createIdentityTestCore, createPasswordUser, expectTokenRefused, loginAs, PASSWORD, SESSION_OR_USER_REVOKED, type IdentityTestCore} from './identity-fixture.js'

// A login checks the password against a hash it read before its transaction. A password change
// or a disable that commits in between must not let it open a session: the login reads the
// account again, under the user row lock, in the transaction that opens the session.

// The login holds no lock before its transaction: the change commits while it is paused there.
// Pauses the first call of the armed repo read (the login's) after it returns, until released.
type PausingRead = 'findUserByEmail' | 'findUserById' | 'findRefreshTokenByHash'
const pause = vi.hoisted(() => ({armed: null as null | PausingRead, reached: null as null | (() => void), gate: null as null | Promise<void>}))
vi.mock('../../../src/identity/user-repo.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/identity/user-repo.js')>()
  const pausing =
    <Args extends unknown[], Result>(name: PausingRead, read: (...args: Args) => Promise<Result>) =>
    async (...args: Args): Promise<Result> => {
      const result = await read(...args)
      if (pause.armed === name) {
        pause.armed = null
        pause.reached?.()
        await pause.gate
      }
      return result
    }
  return {...original, findUserByEmail: pausing('findUserByEmail', original.findUserByEmail), findUserById: pausing('findUserById', original.findUserById)}
})
vi.mock('../../../src/identity/refresh-token-repo.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/identity/refresh-token-repo.js')>()
  return {
    ...original,
    async findRefreshTokenByHash(...args: Parameters<typeof original.findRefreshTokenByHash>) {
      const result = await original.findRefreshTokenByHash(...args)
      if (pause.armed === 'findRefreshTokenByHash') {
        pause.armed = null
        pause.reached?.()
        await pause.gate
      }
      return result
    },
  }
})

/**
 * Runs `change` while `signIn` is paused after the armed read, then lets the sign-in go on.
 * With `waitForLock`, the change may block behind the sign-in's transaction: it is released
 * once the change has committed or waits on a lock (or after `maxWaitMs`).
 */
async function changeDuringLogin<T>(read: PausingRead, signIn: () => Promise<T>, change: () => Promise<unknown>, isWaitingForLock: () => Promise<boolean>, maxWaitMs: number) {
  let release!: () => void
  let reached!: () => void
  const hasReached = new Promise<void>((resolve) => (reached = resolve))
  pause.gate = new Promise<void>((resolve) => (release = resolve))
  pause.reached = reached
  pause.armed = read
  const signingIn = signIn().then(
    (value) => ({ok: true as const, value}),
    (error: unknown) => ({ok: false as const, error}),
  )
  await hasReached
  let changed = false
  const changing = change().then(() => (changed = true))
  for (let waited = 0; waited < maxWaitMs && !changed && !(await isWaitingForLock()); waited += 20) await new Promise((resolve) => setTimeout(resolve, 20))
  release()
  const outcome = await signingIn
  await changing
  return outcome
}

describeEachDialect('login racing a password change or a disable', (dialect: DialectName) => {
  let t: IdentityTestCore
  beforeEach(async () => {
    t = await createIdentityTestCore(dialect)
  })
  afterEach(async () => {
    pause.armed = null
    await t?.close()
  })

  const sessionsOf = async (userId: string) => (await t.core.database.db.selectFrom('session').select(['id', 'revoked_at']).where('user_id', '=', userId).execute()).map((row) => ({id: row.id, revoked: row.revoked_at !== null}))
  // Another connection of this database waiting on a row lock: the change, behind the login.
  const isWaitingForLock = async () =>
    dialect === 'postgres' && ((await sql<{count: number}>`select count(*)::int as count from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(t.core.database.db)).rows[0]?.count ?? 0) > 0
  const login = (email: string) => () => t.core.sessions.login(CONTEXT, {email, password: PASSWORD})

  it('a password change committed after the password check: auth.invalid_credentials, no session', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'race-password')
    const {auth} = await loginAs(t.core, user.email)
    let changedSessionId = ''
    const outcome = await changeDuringLogin(
      'findUserByEmail',
      login(user.email),
      async () => (changedSessionId = (await t.core.sessions.changePassword(auth, CONTEXT, {currentPassword: PASSWORD, newPassword: 'a brand new passphrase'})).sessionId),
      isWaitingForLock,
      5_000,
    )
    expect(outcome).toMatchObject({ok: false, error: {code: 'auth.invalid_credentials'}})
    // The first login's session was ended by the change; the change's own is the only live one.
    expect((await sessionsOf(user.id)).filter((session) => !session.revoked).map((session) => session.id)).toEqual([changedSessionId])
  })

  it('a disable committed after the password check: user.disabled, no session', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'race-disable')
    const outcome = await changeDuringLogin('findUserByEmail', login(user.email), () => t.core.users.disableUser(OPERATOR, {user: user.id}), isWaitingForLock, 5_000)
    expect(outcome).toMatchObject({ok: false, error: {code: 'user.disabled'}})
    expect(await sessionsOf(user.id)).toEqual([])
  })

  it('a disable starting after the login re-read the account waits for it, then ends the session it opened', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'race-disable-late')
    const outcome = await changeDuringLogin(
      'findUserById',
      login(user.email),
      () => t.core.users.disableUser(OPERATOR, {user: user.id}),
      isWaitingForLock,
      // SQLite runs one write transaction at a time: the disable is queued behind the login at once.
      dialect === 'postgres' ? 5_000 : 200,
    )
    if (!outcome.ok) throw outcome.error
    expect(await sessionsOf(user.id)).toEqual([{id: outcome.value.sessionId, revoked: true}])
    await t.follower.syncNow()
    await expectTokenRefused(t.core, outcome.value.accessToken, SESSION_OR_USER_REVOKED)
    await expect(t.core.sessions.refresh(CONTEXT, {refreshToken: outcome.value.refreshToken})).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
  })

  it('a refresh racing a disable mints no token the disabled user can use (Postgres: refused, having read the token before the disable committed)', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'race-refresh')
    const {tokens} = await loginAs(t.core, user.email)
    const outcome = await changeDuringLogin(
      'findRefreshTokenByHash',
      () => t.core.sessions.refresh(CONTEXT, {refreshToken: tokens.refreshToken}),
      () => t.core.users.disableUser(OPERATOR, {user: user.id}),
      isWaitingForLock,
      // On Postgres the first read takes no lock: the disable commits meanwhile. SQLite queues it
      // behind the refresh's write transaction: it then ends the session the refresh extended.
      dialect === 'postgres' ? 5_000 : 200,
    )
    if (dialect === 'postgres') expect(outcome).toMatchObject({ok: false, error: {code: 'auth.invalid_refresh_token'}})
    else if (!outcome.ok) throw outcome.error
    if (outcome.ok) {
      await t.follower.syncNow()
      await expectTokenRefused(t.core, outcome.value.accessToken, SESSION_OR_USER_REVOKED)
      await expect(t.core.sessions.refresh(CONTEXT, {refreshToken: outcome.value.refreshToken})).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
    }
    expect(await sessionsOf(user.id)).toEqual([{id: tokens.sessionId, revoked: true}])
  })
})
