import {afterEach, beforeEach, expect, it} from 'vitest'
import {SYSTEM_ACTOR} from '../../../src/access/principal.js'
import type {DialectName} from '../../../src/db/database-url.js'
import {isDomainError} from '../../../src/errors/domain-error.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {CONTEXT, createPasswordUser, loginAs, PASSWORD} from './identity-fixture.js'

// A password typed again to confirm a change (change-password, the self-service email change)
// is guarded like a login: with a stolen access token, guessing it is bounded by the same
// minute budget and lock.

async function codeOf(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt
  } catch (error) {
    if (isDomainError(error)) return error.code
    throw error
  }
  return 'succeeded'
}

describeEachDialect('password confirmation: guarded like a login', (dialect: DialectName) => {
  let t: TestCore
  beforeEach(async () => {
    // Defaults of the budget (5 a minute); a low lock threshold to reach it quickly.
    t = await createTestCore(dialect, {lockoutThreshold: 7})
    await t.core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
  })
  afterEach(async () => t?.close())

  it('change-password: 5 wrong current passwords a minute, then 429 even with the right one', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'confirm-change')
    const {auth} = await loginAs(t.core, user.email)
    const change = (currentPassword: string) => t.core.sessions.changePassword(auth, CONTEXT, {currentPassword, newPassword: 'a brand new passphrase 42'})
    for (let attempt = 0; attempt < 5; attempt += 1) expect(await codeOf(change('wrong guess'))).toBe('auth.invalid_credentials')
    expect(await codeOf(change(PASSWORD))).toBe('auth.too_many_attempts')
    // The failures were recorded as login failures of the account: the login's budget is spent too.
    expect(await codeOf(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD}))).toBe('auth.too_many_attempts')
    // After the minute the right password works again.
    t.clock.advance(61_000)
    expect(await codeOf(change(PASSWORD))).toBe('succeeded')
  })

  it('email change: wrong passwords count toward the lock; a locked account cannot confirm', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'confirm-email')
    const {auth} = await loginAs(t.core, user.email)
    const changeEmail = (password: string) => t.core.account.changeOwnEmail({userId: auth.userId, sessionId: auth.sessionId}, CONTEXT, {email: `moved-${user.email}`, password})
    // 7 consecutive failures over two minutes (within each minute's budget) lock the account.
    for (let attempt = 0; attempt < 7; attempt += 1) {
      if (attempt === 5) t.clock.advance(61_000)
      expect(await codeOf(changeEmail('wrong guess'))).toBe('auth.invalid_credentials')
    }
    t.clock.advance(61_000)
    expect(await codeOf(changeEmail(PASSWORD))).toBe('auth.too_many_attempts')
    const audit = await t.core.audit.listEvents({action: 'security.account_locked'}, 10)
    expect(audit.map((event) => event.target?.id ?? null)).toContain(user.id)
  })
})
