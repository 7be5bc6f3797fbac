import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {SYSTEM_ACTOR} from '../../../src/access/principal.js'
import type {SettingName} from '../../../src/config/settings.js'
import type {DialectName} from '../../../src/db/database-url.js'
import {isDomainError} from '../../../src/errors/domain-error.js'
import type {RequestContext} from '../../../src/identity/session-service.js'
import {hashIdentifier} from '../../../src/security/attempt-log.js'
import {queuedMails} from '../../helpers/outbox-mail.js'
import {createCore} from '../../../src/core.js'
import {createTestCore, FAST_PASSWORD_HASHER, OPERATOR, testConfig, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {auditActionsAfter, CONTEXT, createPasswordUser, PASSWORD, uniqueEmail} from './identity-fixture.js'

// Brute-force defence of the password step (issue 7): the per-minute failure budget per
// identifier and IP, checked before the password; the lock after consecutive failures; an
// unknown email counted and answered like a known one; every attempt recorded; failures,
// locks and unlocks audited, locks and unlocks mailed.

const MINUTE = 60_000
const LOCKOUT_SECONDS = 900

/** A test core that can sign tokens. */
async function createLoginTestCore(dialect: DialectName, settings: Partial<Record<SettingName, unknown>> = {}): Promise<TestCore> {
  const t = await createTestCore(dialect, settings)
  await t.core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
  return t
}

/** What a refusal looks like from outside: code, message, details — nothing else. */
async function refusalOf(attempt: Promise<unknown>): Promise<{code: string; message: string; details: unknown}> {
  try {
    await attempt
  } catch (error) {
    if (isDomainError(error)) return {code: error.code, message: error.message, details: error.details ?? null}
    throw error
  }
  throw new Error('the login succeeded')
}

describeEachDialect('login: failure budget and lockout', (dialect: DialectName) => {
  let t: TestCore
  beforeEach(async () => {
    // The defaults: 5 failures a minute per account and IP, a lock after 10 for 15 minutes.
    t = await createLoginTestCore(dialect)
  })
  afterEach(async () => t?.close())

  const login = (email: string, password: string, context: RequestContext = CONTEXT) => t.core.sessions.login(context, {email, password})
  const fail = (email: string, context: RequestContext = CONTEXT) => refusalOf(login(email, 'not the password', context))
  const attemptsOf = (email: string) =>
    t.core.database.db.selectFrom('auth_attempt').select(['outcome', 'user_id', 'ip', 'user_agent']).where('identifier_hash', '=', hashIdentifier(email)).orderBy('created_at').orderBy('id').execute()

  it('answers the 6th attempt within a minute 429 with retry_after, even with the right password, until the window passes', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'budget')
    for (let failure = 0; failure < 5; failure += 1) expect((await fail(user.email)).code).toBe('auth.invalid_credentials')
    t.clock.advance(20_000)
    const throttled = await refusalOf(login(user.email, PASSWORD))
    expect(throttled).toMatchObject({code: 'auth.too_many_attempts', details: {retry_after_seconds: 40}})
    expect((await fail(user.email)).code).toBe('auth.too_many_attempts')
    // Another IP has a budget of its own; the same IP for another account too.
    await expect(login(user.email, PASSWORD, {...CONTEXT, ip: '198.51.100.1'})).resolves.toMatchObject({tokenType: 'Bearer'})
    t.clock.advance(40_001)
    await expect(login(user.email, PASSWORD)).resolves.toMatchObject({tokenType: 'Bearer'})
    const outcomes = (await attemptsOf(user.email)).map((attempt) => attempt.outcome)
    expect(outcomes).toEqual(['failure', 'failure', 'failure', 'failure', 'failure', 'throttled', 'throttled', 'success', 'success'])
    const [first] = await attemptsOf(user.email)
    expect(first).toMatchObject({user_id: user.id, ip: CONTEXT.ip, user_agent: CONTEXT.userAgent})
  })

  it('locks the account after 10 consecutive failures for lockout_seconds: the right password is 429 too, until it ends', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'lock')
    const before = await t.core.audit.latestSeq()
    for (let failure = 1; failure <= 10; failure += 1) {
      expect((await fail(user.email)).code).toBe('auth.invalid_credentials')
      if (failure % 5 === 0) t.clock.advance(MINUTE + 1)
    }
    const locked = await refusalOf(login(user.email, PASSWORD))
    expect(locked.code).toBe('auth.too_many_attempts')
    expect((locked.details as {retry_after_seconds: number}).retry_after_seconds).toBe(Math.ceil((LOCKOUT_SECONDS * 1000 - MINUTE - 1) / 1000))
    // From any IP: the lock is the account's.
    expect((await refusalOf(login(user.email, PASSWORD, {...CONTEXT, ip: '192.0.2.44'}))).code).toBe('auth.too_many_attempts')
    const actions = await auditActionsAfter(t.core, before)
    expect(actions.filter((action) => action === 'security.login_failed')).toHaveLength(10)
    expect(actions.filter((action) => action === 'security.account_locked')).toHaveLength(1)
    const [lockedEvent] = await t.core.audit.listEventsAfter({afterSeq: before, action: 'security.account_locked'})
    expect(lockedEvent).toMatchObject({target: {type: 'user', id: user.id}, actor: {type: 'system', name: 'anonymous'}, ip: CONTEXT.ip})
    const mails = await queuedMails(t.core, {to: user.email, kind: 'account_locked'})
    expect(mails).toHaveLength(1)
    expect(mails[0]!.text).toContain(user.email)
    expect((await attemptsOf(user.email)).at(-1)?.outcome).toBe('locked')

    t.clock.advance(LOCKOUT_SECONDS * 1000)
    await expect(login(user.email, PASSWORD)).resolves.toMatchObject({tokenType: 'Bearer'})
  })

  it('starts the count again after a success: failures must be consecutive to lock', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'reset')
    for (let failure = 1; failure <= 9; failure += 1) {
      await fail(user.email)
      if (failure % 4 === 0) t.clock.advance(MINUTE + 1)
    }
    t.clock.advance(MINUTE + 1)
    await login(user.email, PASSWORD)
    for (let failure = 1; failure <= 9; failure += 1) {
      expect((await fail(user.email)).code).toBe('auth.invalid_credentials')
      if (failure % 4 === 0) t.clock.advance(MINUTE + 1)
    }
    t.clock.advance(MINUTE + 1)
    await expect(login(user.email, PASSWORD)).resolves.toMatchObject({tokenType: 'Bearer'})
    expect(await queuedMails(t.core, {kind: 'account_locked'})).toHaveLength(0)
  })

  it('answers, counts and locks an unknown email exactly like a known one (no audit target, no mail)', async () => {
    const known = await createPasswordUser(t.core, OPERATOR, 'known')
    const unknown = uniqueEmail('nobody')
    const before = await t.core.audit.latestSeq()
    const knownAnswers: unknown[] = []
    const unknownAnswers: unknown[] = []
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      knownAnswers.push(await fail(known.email))
      unknownAnswers.push(await fail(unknown))
      if (attempt % 6 === 0) t.clock.advance(MINUTE + 1)
    }
    expect(unknownAnswers).toEqual(knownAnswers)
    expect(knownAnswers.map((answer) => (answer as {code: string}).code)).toEqual([
      ...Array(5).fill('auth.invalid_credentials'),
      'auth.too_many_attempts',
      ...Array(5).fill('auth.invalid_credentials'),
      'auth.too_many_attempts',
    ])
    // Locked: the right password of the known account and any password of the unknown one alike.
    const lockedKnown = await refusalOf(login(known.email, PASSWORD))
    expect(lockedKnown.code).toBe('auth.too_many_attempts')
    expect(await refusalOf(login(unknown, PASSWORD))).toEqual(lockedKnown)
    expect((await attemptsOf(unknown)).map((attempt) => attempt.outcome)).toEqual((await attemptsOf(known.email)).map((attempt) => attempt.outcome))
    const failed = await t.core.audit.listEventsAfter({afterSeq: before, action: 'security.login_failed'})
    expect(failed.filter((event) => event.target === null)).toHaveLength(10)
    expect(failed.filter((event) => event.target?.id === known.id)).toHaveLength(10)
    expect(JSON.stringify(failed)).not.toContain('not the password')
    expect(JSON.stringify(failed)).not.toContain(unknown)
    const locks = await t.core.audit.listEventsAfter({afterSeq: before, action: 'security.account_locked'})
    expect(locks.map((event) => event.metadata.identifier_hash).sort()).toEqual([hashIdentifier(known.email), hashIdentifier(unknown)].sort())
    expect(await queuedMails(t.core, {kind: 'account_locked'})).toHaveLength(1)
  })

  it('user unlock (operators) clears the lock and the count at once, audited and mailed; refuses others', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'unlock')
    for (let failure = 1; failure <= 10; failure += 1) {
      await fail(user.email)
      if (failure % 5 === 0) t.clock.advance(MINUTE + 1)
    }
    expect((await refusalOf(login(user.email, PASSWORD))).code).toBe('auth.too_many_attempts')
    const before = await t.core.audit.latestSeq()
    const unlocked = await t.core.loginGuard.unlockUser(OPERATOR, {user: user.email.toUpperCase()})
    expect(unlocked).toMatchObject({user: {id: user.id}, wasLocked: true})
    expect(await auditActionsAfter(t.core, before)).toEqual(['security.account_unlocked'])
    expect(await queuedMails(t.core, {to: user.email, kind: 'account_unlocked'})).toHaveLength(1)
    await expect(login(user.email, PASSWORD)).resolves.toMatchObject({tokenType: 'Bearer'})
    // Not locked: still succeeds (the count is cleared), no mail.
    expect((await t.core.loginGuard.unlockUser(OPERATOR, {user: user.id})).wasLocked).toBe(false)
    expect(await queuedMails(t.core, {to: user.email, kind: 'account_unlocked'})).toHaveLength(1)
    await expect(t.core.loginGuard.unlockUser(OPERATOR, {user: uniqueEmail('ghost')})).rejects.toMatchObject({code: 'user.not_found'})
    const member = {principal: {kind: 'user' as const, userId: user.id, sessionId: 's', boundOrgId: null}, origin: {}}
    await expect(t.core.loginGuard.unlockUser(member, {user: user.id})).rejects.toMatchObject({code: 'platform.required'})
  })

  it('the lock holds for another core on the same database (another daemon, or after a restart)', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'shared')
    for (let failure = 1; failure <= 10; failure += 1) {
      await fail(user.email)
      if (failure % 5 === 0) t.clock.advance(MINUTE + 1)
    }
    const other = await createCore({config: testConfig(t.database.url), cwd: process.cwd(), clock: t.clock, passwords: FAST_PASSWORD_HASHER})
    try {
      await expect(other.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).rejects.toMatchObject({code: 'auth.too_many_attempts'})
    } finally {
      await other.close()
    }
  })
})

describeEachDialect('login: failures racing on two cores', (dialect: DialectName) => {
  let t: TestCore
  beforeEach(async () => {
    t = await createLoginTestCore(dialect, {lockoutThreshold: 4, failedAttemptsPerMinute: 100})
  })
  afterEach(async () => t?.close())

  it('counts every failure once and locks exactly once (one audit event, one mail)', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'racing')
    const other = await createCore({config: testConfig(t.database.url, {lockoutThreshold: 4, failedAttemptsPerMinute: 100}), cwd: process.cwd(), clock: t.clock, passwords: FAST_PASSWORD_HASHER})
    try {
      const tries = Array.from({length: 8}, (_, index) => (index % 2 === 0 ? t.core : other).sessions.login({...CONTEXT, ip: `192.0.2.${index}`}, {email: user.email, password: 'wrong'}).catch((error: {code: string}) => error.code))
      const codes = await Promise.all(tries)
      // Those that passed the lock check before the lock committed are plain failures; the rest 429.
      expect(codes.every((code) => code === 'auth.invalid_credentials' || code === 'auth.too_many_attempts')).toBe(true)
      expect(codes.filter((code) => code === 'auth.invalid_credentials').length).toBeGreaterThanOrEqual(4)
      expect(await t.core.audit.listEventsAfter({afterSeq: 0, action: 'security.account_locked'})).toHaveLength(1)
      expect(await queuedMails(t.core, {kind: 'account_locked'})).toHaveLength(1)
      const failures = await t.core.database.db.selectFrom('auth_attempt').select('id').where('outcome', '=', 'failure').execute()
      expect(failures).toHaveLength(codes.filter((code) => code === 'auth.invalid_credentials').length)
      await expect(other.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).rejects.toMatchObject({code: 'auth.too_many_attempts'})
    } finally {
      await other.close()
    }
  })
})

describeEachDialect('login: require_verified_email', (dialect: DialectName) => {
  let t: TestCore
  beforeEach(async () => {
    t = await createLoginTestCore(dialect, {requireVerifiedEmail: true})
  })
  afterEach(async () => t?.close())

  it('refuses a right password of an unverified address with auth.email_not_verified, a wrong one as always', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'unverified')
    await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: 'not the password'})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
    await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).rejects.toMatchObject({code: 'auth.email_not_verified'})
    expect(await t.core.sessions.countActiveSessions()).toBe(0)
    // Not a guess: it does not count toward the lock (only toward the minute's budget).
    const lockout = await t.core.database.db.selectFrom('account_lockout').select('consecutive_failures').where('identifier_hash', '=', hashIdentifier(user.email)).executeTakeFirst()
    expect(lockout?.consecutive_failures).toBe(1)
    await t.core.database.db.updateTable('user_account').set({email_verified_at: t.clock.now().toISOString()}).where('id', '=', user.id).execute()
    await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).resolves.toMatchObject({tokenType: 'Bearer'})
  })
})

describeEachDialect('login: new devices', (dialect: DialectName) => {
  let t: TestCore
  beforeEach(async () => {
    t = await createLoginTestCore(dialect)
  })
  afterEach(async () => t?.close())

  const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
  const FIREFOX_LINUX_NEWER = 'Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0'
  const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'
  const from = (userAgent: string, ip: string): RequestContext => ({ip, userAgent, requestId: 'req-device'})

  it('records the first device silently; a new browser/OS or network is audited security.new_device and mailed; a known one is not', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'device')
    const login = (context: RequestContext) => t.core.sessions.login(context, {email: user.email, password: PASSWORD})
    const newDeviceEvents = async () => t.core.audit.listEventsAfter({afterSeq: 0, action: 'security.new_device'})

    await login(from(FIREFOX_LINUX, '203.0.113.10'))
    expect(await newDeviceEvents()).toHaveLength(0)
    expect(await queuedMails(t.core, {kind: 'new_device'})).toHaveLength(0)
    // Same browser family and OS (another version), same /24: the same device.
    t.clock.advance(1000)
    await login(from(FIREFOX_LINUX_NEWER, '203.0.113.99'))
    expect(await newDeviceEvents()).toHaveLength(0)
    const devices = await t.core.database.db.selectFrom('known_device').selectAll().where('user_id', '=', user.id).execute()
    expect(devices).toHaveLength(1)
    expect(devices[0]!.last_seen_at).toBe(t.clock.now().toISOString())
    expect(JSON.stringify(devices)).not.toContain('203.0.113')

    await login(from(CHROME_WINDOWS, '203.0.113.10'))
    await login(from(FIREFOX_LINUX, '198.51.100.7'))
    const events = await newDeviceEvents()
    expect(events.map((event) => event.metadata)).toEqual([
      {client: 'Chrome on Windows', network: '203.0.113.0/24'},
      {client: 'Firefox on Linux', network: '198.51.100.0/24'},
    ])
    expect(events[0]).toMatchObject({target: {type: 'user', id: user.id}, actor: {type: 'user', id: user.id}})
    const mails = await queuedMails(t.core, {to: user.email, kind: 'new_device'})
    expect(mails).toHaveLength(2)
    expect(mails[0]!.text).toContain('Chrome on Windows')
    // Seen now: no second mail.
    await login(from(CHROME_WINDOWS, '203.0.113.200'))
    expect(await queuedMails(t.core, {kind: 'new_device'})).toHaveLength(2)
  })

  it('deleting a user deletes their known devices and pending 2FA logins', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'device-delete')
    await t.core.sessions.login(from(CHROME_WINDOWS, '192.0.2.1'), {email: user.email, password: PASSWORD})
    const at = t.clock.now().toISOString()
    await t.core.database.db.insertInto('one_time_token').values({id: 'pending', purpose: 'mfa_login', user_id: user.id, token_hash: 'pending-hash', email: null, data: null, created_at: at, expires_at: at, used_at: null}).execute()
    await t.core.users.deleteUser(OPERATOR, {user: user.id})
    expect(await t.core.database.db.selectFrom('known_device').selectAll().execute()).toHaveLength(0)
    expect(await t.core.database.db.selectFrom('one_time_token').selectAll().where('user_id', '=', user.id).execute()).toHaveLength(0)
  })

  it('a failed login records no device', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'device-fail')
    await expect(t.core.sessions.login(from(CHROME_WINDOWS, '192.0.2.1'), {email: user.email, password: 'nope'})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
    expect(await t.core.database.db.selectFrom('known_device').selectAll().execute()).toHaveLength(0)
  })
})

describeEachDialect('purge-auth-attempts job', (dialect: DialectName) => {
  let t: TestCore
  beforeEach(async () => {
    t = await createLoginTestCore(dialect, {attemptRetentionDays: 30})
  })
  afterEach(async () => t?.close())

  it('deletes attempts older than attempt_retention_days, expired one-time tokens and stale unlocked lockouts', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'purge')
    await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: 'nope'})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
    await t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})
    const db = t.core.database.db
    const at = (offsetMs: number) => new Date(t.clock.now().getTime() + offsetMs).toISOString()
    await db
      .insertInto('one_time_token')
      .values([
        {id: 'expired', purpose: 'mfa_login', user_id: user.id, token_hash: 'h1', email: null, data: null, created_at: at(-2000), expires_at: at(-1000), used_at: null},
        {id: 'live', purpose: 'mfa_login', user_id: user.id, token_hash: 'h2', email: null, data: null, created_at: at(0), expires_at: at(40 * 86_400_000), used_at: null},
      ])
      .execute()
    await db
      .insertInto('account_lockout')
      .values([
        {identifier_hash: 'lock-ended', user_id: null, consecutive_failures: 0, locked_until: at(3_600_000), updated_at: at(-3 * 86_400_000)},
        {identifier_hash: 'still-locked', user_id: null, consecutive_failures: 0, locked_until: at(100 * 86_400_000), updated_at: at(-3 * 86_400_000)},
      ])
      .execute()

    // A day after the lock ended (and the user's own row, untouched since the login) the rows go.
    t.clock.advance(29 * 86_400_000)
    expect(await t.core.jobs.runNow('purge-auth-attempts', 'test')).toEqual({attempts_deleted: 0, one_time_tokens_deleted: 1, lockouts_deleted: 2})
    t.clock.advance(86_400_000 + 1)
    expect(await t.core.jobs.runNow('purge-auth-attempts', 'test')).toEqual({attempts_deleted: 2, one_time_tokens_deleted: 0, lockouts_deleted: 0})
    expect(await db.selectFrom('auth_attempt').selectAll().execute()).toHaveLength(0)
    expect(await db.selectFrom('one_time_token').select('id').execute()).toEqual([{id: 'live'}])
    expect(await db.selectFrom('account_lockout').select('identifier_hash').execute()).toEqual([{identifier_hash: 'still-locked'}])
  })
})

describe('job list', () => {
  it('has purge-auth-attempts among the jobs', async () => {
    const t = await createTestCore('sqlite')
    try {
      expect(t.core.jobs.jobNames()).toContain('purge-auth-attempts')
    } finally {
      await t.close()
    }
  })
})
