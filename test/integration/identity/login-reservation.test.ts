import {afterEach, expect, it} from 'vitest'
import {SYSTEM_ACTOR, userActor} from '../../../src/access/principal.js'
import type {SettingName} from '../../../src/config/settings.js'
import {createCore, type Core} from '../../../src/core.js'
import type {DialectName} from '../../../src/db/database-url.js'
import {isDomainError} from '../../../src/errors/domain-error.js'
import {loginIdentifierHash} from '../../../src/identity/login-guard.js'
import {createFixedClock, type FixedClock} from '../../../src/security/clock.js'
import {createPasswordHasher, type PasswordHasher} from '../../../src/security/password-hasher.js'
import {queuedMails} from '../../helpers/outbox-mail.js'
import {totpCode} from '../../helpers/rfc6238.js'
import {FAST_PASSWORD_HASHER, OPERATOR, testConfig} from '../../helpers/test-core.js'
import {createTestDatabase, describeEachDialect, type TestDatabase} from '../../helpers/test-database.js'
import {CONTEXT, createPasswordUser, PASSWORD} from './identity-fixture.js'

// Review of issue 7's brute-force defence: the guard used to check the budget and the lock
// before the slow password verification and record the failure only after it, so a burst of
// concurrent guesses all passed the check. Now each attempt is reserved (recorded and counted)
// before its secret is checked, in one transaction holding the account's lockout row.

/** A password hasher that counts verifications, and can hold one until released. */
function countingHasher(inner: PasswordHasher) {
  const counter = {verifications: 0, hold: null as null | {password: string; reached: () => void; gate: Promise<void>}, afterVerify: null as null | (() => Promise<void>)}
  const count = async <T>(plain: string, verify: () => Promise<T>): Promise<T> => {
    counter.verifications += 1
    const result = await verify()
    const hold = counter.hold
    if (hold && hold.password === plain) {
      counter.hold = null
      hold.reached()
      await hold.gate
    }
    if (counter.afterVerify) {
      const after = counter.afterVerify
      counter.afterVerify = null
      await after()
    }
    return result
  }
  const hasher: PasswordHasher = {
    parameters: inner.parameters,
    hashPassword: (plain) => inner.hashPassword(plain),
    verifyPassword: (hash, plain) => count(plain, () => inner.verifyPassword(hash, plain)),
    spendDummyVerification: (plain) => count(plain, () => inner.spendDummyVerification(plain)),
  }
  return {hasher, counter}
}

interface ReservationCore {
  core: Core
  clock: FixedClock
  counter: ReturnType<typeof countingHasher>['counter']
  close(): Promise<void>
}

async function createReservationCore(dialect: DialectName, settings: Partial<Record<SettingName, unknown>>, inner: PasswordHasher): Promise<ReservationCore> {
  const database: TestDatabase = await createTestDatabase(dialect)
  const clock = createFixedClock(new Date('2026-01-01T00:00:00.000Z'))
  const {hasher, counter} = countingHasher(inner)
  const core = await createCore({config: testConfig(database.url, settings), cwd: process.cwd(), clock, passwords: hasher, schema: 'migrate'})
  await core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
  return {
    core,
    clock,
    counter,
    async close() {
      await core.close()
      await database.drop()
    },
  }
}

const codeOf = (attempt: Promise<unknown>): Promise<string> =>
  attempt.then(
    () => 'ok',
    (error: unknown) => (isDomainError(error) ? error.code : String(error)),
  )

const lockoutOf = async (core: Core, email: string) =>
  core.database.db.selectFrom('account_lockout').select(['consecutive_failures', 'locked_until']).where('identifier_hash', '=', loginIdentifierHash(email)).executeTakeFirst()

describeEachDialect('login reservations: bursts cannot overrun the budget or the lock', (dialect: DialectName) => {
  let t: ReservationCore | undefined
  afterEach(async () => {
    await t?.close()
    t = undefined
  })

  it('50 concurrent wrong passwords from one IP, with OWASP argon2id: at most the budget are verified, the rest 429', async () => {
    t = await createReservationCore(dialect, {failedAttemptsPerMinute: 5, lockoutThreshold: 10}, createPasswordHasher())
    const user = await createPasswordUser(t.core, OPERATOR, 'burst')
    t.counter.verifications = 0
    const codes = await Promise.all(Array.from({length: 50}, () => codeOf(t!.core.sessions.login(CONTEXT, {email: user.email, password: 'wrong guess'}))))
    expect(t.counter.verifications).toBeLessThanOrEqual(5)
    expect(codes.filter((code) => code === 'auth.invalid_credentials')).toHaveLength(t.counter.verifications)
    expect(codes.filter((code) => code === 'auth.too_many_attempts')).toHaveLength(50 - t.counter.verifications)
  }, 60_000)

  it('50 concurrent wrong passwords from 50 IPs, with OWASP argon2id: at most the threshold are verified, locked exactly once', async () => {
    t = await createReservationCore(dialect, {failedAttemptsPerMinute: 5, lockoutThreshold: 10}, createPasswordHasher())
    const user = await createPasswordUser(t.core, OPERATOR, 'spread')
    t.counter.verifications = 0
    const codes = await Promise.all(Array.from({length: 50}, (_, index) => codeOf(t!.core.sessions.login({...CONTEXT, ip: `198.51.100.${index + 1}`}, {email: user.email, password: 'wrong guess'}))))
    expect(t.counter.verifications).toBeLessThanOrEqual(10)
    expect(codes.filter((code) => code === 'auth.invalid_credentials')).toHaveLength(t.counter.verifications)
    expect(await t.core.audit.listEventsAfter({afterSeq: 0, action: 'security.account_locked'})).toHaveLength(1)
    expect(await queuedMails(t.core, {to: user.email, kind: 'account_locked'})).toHaveLength(1)
  }, 60_000)

  it('12 concurrent right-password logins from one IP, with OWASP argon2id: all log in (attempts beyond the budget wait for those in flight)', async () => {
    t = await createReservationCore(dialect, {failedAttemptsPerMinute: 5, lockoutThreshold: 10, maxSessionsPerUser: 100}, createPasswordHasher())
    const user = await createPasswordUser(t.core, OPERATOR, 'parallel')
    t.counter.verifications = 0
    const codes = await Promise.all(Array.from({length: 12}, () => codeOf(t!.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD}))))
    expect(codes).toEqual(Array.from({length: 12}, () => 'ok'))
    expect(t.counter.verifications).toBe(12)
    // Nothing is left reserved: every attempt settled as a success.
    const outcomes = await t.core.database.db.selectFrom('auth_attempt').select('outcome').where('user_id', '=', user.id).execute()
    expect(outcomes.map((row) => row.outcome)).toEqual(Array.from({length: 12}, () => 'success'))
  }, 60_000)

  it('near the threshold, concurrent right logins wait for each other instead of a 429 as if locked', async () => {
    t = await createReservationCore(dialect, {failedAttemptsPerMinute: 5, lockoutThreshold: 10, maxSessionsPerUser: 100}, createPasswordHasher())
    const user = await createPasswordUser(t.core, OPERATOR, 'typos')
    // 8 typos from 8 addresses (each within its own minute's budget): 2 short of the lock.
    for (let index = 0; index < 8; index += 1) expect(await codeOf(t.core.sessions.login({...CONTEXT, ip: `203.0.113.${index + 1}`}, {email: user.email, password: 'typo'}))).toBe('auth.invalid_credentials')
    const codes = await Promise.all(Array.from({length: 3}, () => codeOf(t!.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD}))))
    expect(codes).toEqual(['ok', 'ok', 'ok'])
    expect(await lockoutOf(t.core, user.email)).toMatchObject({consecutive_failures: 0, locked_until: null})
  }, 60_000)

  it('a reservation left pending by a process that died holds no one waiting: over the budget, the 429 comes at once, dated by the window', async () => {
    t = await createReservationCore(dialect, {failedAttemptsPerMinute: 5, lockoutThreshold: 10}, FAST_PASSWORD_HASHER)
    const user = await createPasswordUser(t.core, OPERATOR, 'stale')
    // Five reservations whose process died 40 s ago, before settling them.
    const diedAt = new Date(t.clock.now().getTime() - 40_000).toISOString()
    await t.core.database.db
      .insertInto('auth_attempt')
      .values(Array.from({length: 5}, (_, index) => ({id: `stale-${index}`, kind: 'login', identifier_hash: loginIdentifierHash(user.email), user_id: user.id, ip: CONTEXT.ip ?? null, user_agent: null, outcome: 'pending' as const, created_at: diedAt})))
      .execute()
    const refusal = await t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD}).then(
      () => null,
      (error: unknown) => error as {code: string; details: {retry_after_seconds: number}},
    )
    // Counted as failures (they may have been guesses), but not waited for: Retry-After is when
    // they leave the minute (20 s), not the 1 s of an attempt that gave up waiting.
    expect(refusal).toMatchObject({code: 'auth.too_many_attempts', details: {retry_after_seconds: 20}})
  })

  it('a burst holding the right password: every verified attempt is answered like a wrong one or logs in — never a late 429', async () => {
    t = await createReservationCore(dialect, {failedAttemptsPerMinute: 5, lockoutThreshold: 10}, FAST_PASSWORD_HASHER)
    const user = await createPasswordUser(t.core, OPERATOR, 'mixed')
    t.counter.verifications = 0
    const tries = Array.from({length: 30}, (_, index) => codeOf(t!.core.sessions.login({...CONTEXT, ip: `198.51.100.${index + 1}`}, {email: user.email, password: index === 12 ? PASSWORD : 'wrong guess'})))
    const codes = await Promise.all(tries)
    expect(codes.every((code) => ['ok', 'auth.invalid_credentials', 'auth.too_many_attempts'].includes(code))).toBe(true)
    // 429 only for attempts refused before their password was looked at.
    expect(codes.filter((code) => code === 'auth.too_many_attempts')).toHaveLength(30 - t.counter.verifications)
    expect(await t.core.audit.listEventsAfter({afterSeq: 0, action: 'security.account_locked'})).toHaveLength(codes[12] === 'ok' ? 0 : 1)
  })

  it('a lock that commits while the right password is being verified answers it 401 auth.invalid_credentials, like a wrong one, and opens no session', async () => {
    t = await createReservationCore(dialect, {failedAttemptsPerMinute: 5, lockoutThreshold: 10}, FAST_PASSWORD_HASHER)
    const user = await createPasswordUser(t.core, OPERATOR, 'late')
    let release!: () => void
    let reached!: () => void
    const hasReached = new Promise<void>((resolve) => (reached = resolve))
    t.counter.hold = {password: PASSWORD, reached, gate: new Promise<void>((resolve) => (release = resolve))}
    const signingIn = codeOf(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD}))
    await hasReached
    // The right password holds one reservation: nine failures from other addresses reach the threshold and lock.
    const codes: string[] = []
    for (let failure = 0; failure < 10; failure += 1) codes.push(await codeOf(t.core.sessions.login({...CONTEXT, ip: `192.0.2.${failure + 1}`}, {email: user.email, password: 'wrong'})))
    expect(codes).toEqual([...Array(9).fill('auth.invalid_credentials'), 'auth.too_many_attempts'])
    release()
    expect(await signingIn).toBe('auth.invalid_credentials')
    expect(await t.core.sessions.countActiveSessions()).toBe(0)
    const recorded = await t.core.database.db.selectFrom('auth_attempt').select('outcome').where('ip', '=', CONTEXT.ip!).execute()
    expect(recorded.map((row) => row.outcome)).toEqual(['locked'])
    expect(await t.core.audit.listEventsAfter({afterSeq: 0, action: 'security.account_locked'})).toHaveLength(1)
  })

  it('concurrent wrong current passwords of change-password check at most the budget', async () => {
    t = await createReservationCore(dialect, {failedAttemptsPerMinute: 5, lockoutThreshold: 10}, FAST_PASSWORD_HASHER)
    const user = await createPasswordUser(t.core, OPERATOR, 'confirm')
    const tokens = await t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})
    const auth = await t.core.authenticator.authenticate(tokens.accessToken)
    t.counter.verifications = 0
    const codes = await Promise.all(Array.from({length: 20}, () => codeOf(t!.core.sessions.changePassword(auth, CONTEXT, {currentPassword: 'wrong guess', newPassword: 'another long passphrase 42'}))))
    expect(t.counter.verifications).toBeLessThanOrEqual(5)
    expect(codes.filter((code) => code === 'auth.invalid_credentials')).toHaveLength(t.counter.verifications)
    expect(codes.filter((code) => code === 'auth.too_many_attempts')).toHaveLength(20 - t.counter.verifications)
  })

  it('the lock of an unknown email does the work of a known one (the lock mail written and rolled back)', async () => {
    t = await createReservationCore(dialect, {failedAttemptsPerMinute: 100, lockoutThreshold: 3}, FAST_PASSWORD_HASHER)
    const enqueue = t.core.mail.enqueue
    const enqueued: string[] = []
    t.core.mail.enqueue = async (tx, message) => {
      enqueued.push(message.kind)
      return enqueue(tx, message)
    }
    for (let failure = 0; failure < 3; failure += 1) expect(await codeOf(t.core.sessions.login(CONTEXT, {email: 'nobody@unknown.example', password: 'wrong'}))).toBe('auth.invalid_credentials')
    expect(enqueued).toEqual(['account_locked'])
    expect(await queuedMails(t.core, {kind: 'account_locked'})).toHaveLength(0)
    expect(await codeOf(t.core.sessions.login(CONTEXT, {email: 'nobody@unknown.example', password: 'wrong'}))).toBe('auth.too_many_attempts')
  })
})

describeEachDialect('login reservations: 2FA', (dialect: DialectName) => {
  let t: ReservationCore | undefined
  afterEach(async () => {
    await t?.close()
    t = undefined
  })

  async function createMfaUser(core: Core, clock: FixedClock, prefix: string) {
    const user = await createPasswordUser(core, OPERATOR, prefix)
    const {secret} = await core.mfa.setup(OPERATOR, {user: user.id})
    const {recoveryCodes} = await core.mfa.enable(OPERATOR, {user: user.id, code: totpCode(secret, clock.now())})
    clock.advance(30_000)
    return {user, secret, recoveryCodes}
  }

  it("a 2FA user's right password takes back only its own reservation: it never resets the failure count", async () => {
    t = await createReservationCore(dialect, {failedAttemptsPerMinute: 100, lockoutThreshold: 10}, FAST_PASSWORD_HASHER)
    const {user} = await createMfaUser(t.core, t.clock, 'count')
    for (let failure = 0; failure < 3; failure += 1) expect(await codeOf(t.core.sessions.login(CONTEXT, {email: user.email, password: 'wrong'}))).toBe('auth.invalid_credentials')
    const step = await t.core.sessions.beginLogin(CONTEXT, {email: user.email, password: PASSWORD})
    expect(step.mfaRequired).toBe(true)
    expect(Number((await lockoutOf(t.core, user.email))?.consecutive_failures)).toBe(3)
  })

  it('concurrent wrong codes at the 2FA step check at most the budget', async () => {
    t = await createReservationCore(dialect, {failedAttemptsPerMinute: 5, lockoutThreshold: 50, mfaTokenTtlSeconds: 300}, FAST_PASSWORD_HASHER)
    const {user} = await createMfaUser(t.core, t.clock, 'codes')
    const step = await t.core.sessions.beginLogin(CONTEXT, {email: user.email, password: PASSWORD})
    if (!step.mfaRequired) throw new Error('expected mfa_required')
    const verify = t.core.mfa.verify
    let checked = 0
    t.core.mfa.verify = async (...args) => {
      checked += 1
      return verify(...args)
    }
    const codes = await Promise.all(Array.from({length: 20}, () => codeOf(t!.core.sessions.loginWithSecondFactor(CONTEXT, {mfaToken: step.mfaToken, code: '000000'}))))
    expect(checked).toBeLessThanOrEqual(5)
    expect(codes.filter((code) => code === 'auth.invalid_mfa_code')).toHaveLength(checked)
    expect(codes.filter((code) => code === 'auth.too_many_attempts')).toHaveLength(20 - checked)
  })

  it('2FA turned on after the password is checked is not skipped: whether it is on is read in the session transaction', async () => {
    t = await createReservationCore(dialect, {}, FAST_PASSWORD_HASHER)
    const user = await createPasswordUser(t.core, OPERATOR, 'late-2fa')
    const core = t.core
    const isEnabled = core.mfa.isEnabled
    const readOutsideTransaction: boolean[] = []
    core.mfa.isEnabled = async (database, userId) => {
      readOutsideTransaction.push(!database.isTransaction)
      return isEnabled(database, userId)
    }
    t.counter.afterVerify = async () => {
      const {secret} = await core.mfa.setup(OPERATOR, {user: user.id})
      await core.mfa.enable(OPERATOR, {user: user.id, code: totpCode(secret, t!.clock.now())})
    }
    const step = await core.sessions.beginLogin(CONTEXT, {email: user.email, password: PASSWORD})
    expect(step.mfaRequired).toBe(true)
    expect(readOutsideTransaction).not.toContain(true)
    expect(await core.sessions.countActiveSessions()).toBe(0)
  })

  it('a login with a recovery code is audited (user.mfa_recovery_code_used, codes left) and mailed', async () => {
    t = await createReservationCore(dialect, {mfaTokenTtlSeconds: 300}, FAST_PASSWORD_HASHER)
    const {user, recoveryCodes} = await createMfaUser(t.core, t.clock, 'recovery')
    const step = await t.core.sessions.beginLogin(CONTEXT, {email: user.email, password: PASSWORD})
    if (!step.mfaRequired) throw new Error('expected mfa_required')
    await t.core.sessions.loginWithSecondFactor(CONTEXT, {mfaToken: step.mfaToken, recoveryCode: recoveryCodes[0]})
    const events = await t.core.audit.listEventsAfter({afterSeq: 0, action: 'user.mfa_recovery_code_used'})
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({target: {type: 'user', id: user.id}, metadata: {recovery_codes_remaining: 9}})
    const mails = await queuedMails(t.core, {to: user.email, kind: 'mfa_recovery_code_used'})
    expect(mails).toHaveLength(1)
    expect(mails[0]!.text).toContain('9 unused recovery codes remain')
  })

  it('enable, new recovery codes and disable need the password; disable answers a wrong password and a wrong code alike', async () => {
    t = await createReservationCore(dialect, {failedAttemptsPerMinute: 100}, FAST_PASSWORD_HASHER)
    const user = await createPasswordUser(t.core, OPERATOR, 'stolen-token')
    const actor = userActor({userId: user.id, sessionId: 's', orgId: null}, CONTEXT)
    const {secret} = await t.core.mfa.setup(actor)
    expect(await codeOf(t.core.mfa.enable(actor, {code: totpCode(secret, t.clock.now())}))).toBe('validation.failed')
    expect(await codeOf(t.core.mfa.enable(actor, {password: 'wrong', code: totpCode(secret, t.clock.now())}))).toBe('auth.invalid_credentials')
    expect((await t.core.mfa.statusOf(t.core.database.db, user.id)).enabled).toBe(false)
    await t.core.mfa.enable(actor, {password: PASSWORD, code: totpCode(secret, t.clock.now())})
    t.clock.advance(30_000)
    expect(await codeOf(t.core.mfa.regenerateRecoveryCodes(actor, {}))).toBe('validation.failed')
    expect(await codeOf(t.core.mfa.regenerateRecoveryCodes(actor, {password: 'wrong'}))).toBe('auth.invalid_credentials')
    expect(await codeOf(t.core.mfa.disable(actor, {password: 'wrong', code: totpCode(secret, t.clock.now())}))).toBe('auth.invalid_credentials')
    expect(await codeOf(t.core.mfa.disable(actor, {password: PASSWORD, code: '000000'}))).toBe('auth.invalid_credentials')
    expect((await t.core.mfa.statusOf(t.core.database.db, user.id)).enabled).toBe(true)
    // Wrong passwords and codes here count toward the login's lock, as at login.
    expect(Number((await lockoutOf(t.core, user.email))?.consecutive_failures)).toBe(4)
  })
})
