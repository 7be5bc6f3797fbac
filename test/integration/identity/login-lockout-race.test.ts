import {afterEach, beforeEach, expect, it, vi} from 'vitest'
import type {DialectName} from '../../../src/db/database-url.js'
import {OPERATOR} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {CONTEXT, createIdentityTestCore, createPasswordUser, PASSWORD, type IdentityTestCore} from './identity-fixture.js'

// Hole 2 of issue 7, the lockout part: a lock that commits while a login is under way (other
// requests' failures, on this daemon or another) must refuse it. Here the login pauses after
// reading the account, before its reservation: the reservation, under the lock row, sees the
// lock and refuses (429). A lock that commits while the right password is being verified, after
// the reservation, is login-reservation.test.ts's case: answered like a wrong password (401).

const pause = vi.hoisted(() => ({armed: false, reached: null as null | (() => void), gate: null as null | Promise<void>}))
vi.mock('../../../src/identity/user-repo.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/identity/user-repo.js')>()
  return {
    ...original,
    // The login's read of the account by email: it pauses after it, before the password check.
    async findUserByEmail(...args: Parameters<typeof original.findUserByEmail>) {
      const result = await original.findUserByEmail(...args)
      if (pause.armed) {
        pause.armed = false
        pause.reached?.()
        await pause.gate
      }
      return result
    },
  }
})

describeEachDialect('login racing a lockout', (dialect: DialectName) => {
  let t: IdentityTestCore
  beforeEach(async () => {
    t = await createIdentityTestCore(dialect)
  })
  afterEach(async () => {
    pause.armed = false
    await t?.close()
  })

  it('refuses the login (429 auth.too_many_attempts) and opens no session when the lock commits after the account was read', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'race')
    let release!: () => void
    let reached!: () => void
    const hasReached = new Promise<void>((resolve) => (reached = resolve))
    pause.gate = new Promise<void>((resolve) => (release = resolve))
    pause.reached = reached
    pause.armed = true
    const signingIn = t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD}).then(
      () => ({ok: true as const}),
      (error: unknown) => ({ok: false as const, error}),
    )
    await hasReached
    // Ten failures from ten addresses (each within its own minute's budget) lock the account.
    for (let failure = 0; failure < 10; failure += 1) {
      await expect(t.core.sessions.login({...CONTEXT, ip: `192.0.2.${failure + 1}`}, {email: user.email, password: 'wrong'})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
    }
    release()
    const outcome = await signingIn
    expect(outcome.ok).toBe(false)
    expect(outcome.ok ? null : outcome.error).toMatchObject({code: 'auth.too_many_attempts'})
    expect(await t.core.sessions.countActiveSessions()).toBe(0)
    const recorded = await t.core.database.db.selectFrom('auth_attempt').select('outcome').where('ip', '=', CONTEXT.ip!).execute()
    expect(recorded.map((row) => row.outcome)).toEqual(['locked'])
  })
})
