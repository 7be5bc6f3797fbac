import {afterEach, beforeEach, expect, it} from 'vitest'
import {SYSTEM_ACTOR, userActor} from '../../../src/access/principal.js'
import type {SettingName} from '../../../src/config/settings.js'
import type {DialectName} from '../../../src/db/database-url.js'
import type {LoginStep, RequestContext} from '../../../src/identity/session-service.js'
import {hashIdentifier} from '../../../src/security/attempt-log.js'
import {queuedMails} from '../../helpers/outbox-mail.js'
import {totpCode} from '../../helpers/rfc6238.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {CONTEXT, createPasswordUser, PASSWORD} from './identity-fixture.js'

// The login of a user with 2FA on (issue 7): the password step answers an mfa_token and no
// tokens; the code step (a TOTP code or a recovery code) opens the session as a password login
// does. Wrong codes are budgeted and count toward the lock; the mfa_token is single use and
// short-lived; an organization that requires 2FA refuses users without it.

const STEP_MS = 30_000
const MINUTE = 60_000

async function createMfaTestCore(dialect: DialectName, settings: Partial<Record<SettingName, unknown>> = {}): Promise<TestCore> {
  const t = await createTestCore(dialect, settings)
  await t.core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
  return t
}

describeEachDialect('2FA login', (dialect: DialectName) => {
  let t: TestCore
  beforeEach(async () => {
    t = await createMfaTestCore(dialect, {mfaTokenTtlSeconds: 300})
  })
  afterEach(async () => t?.close())

  /** A user with a password and 2FA on; later codes come from the steps after the enabling one. */
  async function createMfaUser(prefix: string) {
    const user = await createPasswordUser(t.core, OPERATOR, prefix)
    const actor = userActor({userId: user.id, sessionId: 'setup', orgId: null}, CONTEXT)
    const {secret} = await t.core.mfa.setup(actor)
    const {recoveryCodes} = await t.core.mfa.enable(actor, {password: PASSWORD, code: totpCode(secret, t.clock.now())})
    t.clock.advance(STEP_MS)
    return {user, secret, recoveryCodes, code: () => totpCode(secret, t.clock.now())}
  }
  const passwordStep = async (email: string, extra: {org?: string} = {}, context: RequestContext = CONTEXT): Promise<Extract<LoginStep, {mfaRequired: true}>> => {
    const step = await t.core.sessions.beginLogin(context, {email, password: PASSWORD, ...extra})
    if (!step.mfaRequired) throw new Error('expected mfa_required')
    return step
  }
  const codeStep = (mfaToken: string, proof: {code?: string; recoveryCode?: string}, context: RequestContext = CONTEXT) => t.core.sessions.loginWithSecondFactor(context, {mfaToken, ...proof})

  it('answers a right password with an mfa_token and no session; a right code opens the session bound as the password step asked', async () => {
    const {user, code} = await createMfaUser('two-step')
    const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Two step', slug: 'two-step', owner: user.id})
    const step = await passwordStep(user.email, {org: org.slug})
    expect(step).toEqual({mfaRequired: true, mfaToken: expect.stringMatching(/^[\w-]{43}$/), expiresIn: 300})
    expect(await t.core.sessions.countActiveSessions()).toBe(0)
    // Stored only hashed, with what the password step settled.
    const stored = await t.core.database.db.selectFrom('one_time_token').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow()
    expect(stored).toMatchObject({purpose: 'mfa_login', used_at: null})
    expect(JSON.stringify(stored)).not.toContain(step.mfaToken)
    expect(JSON.parse(stored.data!)).toMatchObject({org_id: org.id})

    const tokens = await codeStep(step.mfaToken, {code: code()})
    expect(await t.core.authenticator.authenticate(tokens.accessToken)).toMatchObject({userId: user.id, orgId: org.id, role: 'owner'})
    // Single use.
    await expect(codeStep(step.mfaToken, {code: code()})).rejects.toMatchObject({code: 'auth.invalid_mfa_token'})
    // A caller that cannot take the second step is told so.
    await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD})).rejects.toMatchObject({code: 'auth.mfa_required'})
  })

  it('refuses a wrong and a replayed code (auth.invalid_mfa_code, counted toward the lock); the mfa_token stays usable for a retry', async () => {
    const {user, code} = await createMfaUser('wrong-code')
    const first = await passwordStep(user.email)
    const rightCode = code()
    await expect(codeStep(first.mfaToken, {code: rightCode === '000000' ? '111111' : '000000'})).rejects.toMatchObject({code: 'auth.invalid_mfa_code'})
    const lockout = () => t.core.database.db.selectFrom('account_lockout').select('consecutive_failures').where('identifier_hash', '=', hashIdentifier(user.email)).executeTakeFirst()
    expect((await lockout())?.consecutive_failures).toBe(1)
    await codeStep(first.mfaToken, {code: rightCode})
    expect((await lockout())?.consecutive_failures).toBe(0)
    // The same code again, in another login: a replay.
    const second = await passwordStep(user.email)
    await expect(codeStep(second.mfaToken, {code: rightCode})).rejects.toMatchObject({code: 'auth.invalid_mfa_code'})
    t.clock.advance(STEP_MS)
    await expect(codeStep(second.mfaToken, {code: code()})).resolves.toMatchObject({tokenType: 'Bearer'})
    const failed = await t.core.audit.listEventsAfter({afterSeq: 0, action: 'security.login_failed'})
    expect(failed.map((event) => event.metadata.step)).toEqual(['second_factor', 'second_factor'])
    const attempts = await t.core.database.db.selectFrom('auth_attempt').select(['kind', 'outcome']).orderBy('created_at').orderBy('id').execute()
    // After the enabling code's own check (core.mfa records it under the same kind and user):
    expect(attempts.filter((attempt) => attempt.kind === 'mfa').map((attempt) => attempt.outcome)).toEqual(['success', 'failure', 'success', 'failure', 'success'])
  })

  it('takes each recovery code once', async () => {
    const {user, recoveryCodes} = await createMfaUser('recovery')
    const [recoveryCode] = recoveryCodes
    await expect(codeStep((await passwordStep(user.email)).mfaToken, {recoveryCode})).resolves.toMatchObject({tokenType: 'Bearer'})
    await expect(codeStep((await passwordStep(user.email)).mfaToken, {recoveryCode})).rejects.toMatchObject({code: 'auth.invalid_mfa_code'})
  })

  it('refuses an expired, an unknown and a voided mfa_token with auth.invalid_mfa_token', async () => {
    const {user, code} = await createMfaUser('expiry')
    const step = await passwordStep(user.email)
    t.clock.advance(300_000)
    await expect(codeStep(step.mfaToken, {code: code()})).rejects.toMatchObject({code: 'auth.invalid_mfa_token'})
    await expect(codeStep('not-a-token', {code: code()})).rejects.toMatchObject({code: 'auth.invalid_mfa_token'})
    // A password change between the steps voids the token.
    const pending = await passwordStep(user.email)
    await t.core.database.db.updateTable('user_account').set({password_hash: 'changed'}).where('id', '=', user.id).execute()
    await expect(codeStep(pending.mfaToken, {code: code()})).rejects.toMatchObject({code: 'auth.invalid_mfa_token'})
    expect(await t.core.sessions.countActiveSessions()).toBe(0)
    await expect(t.core.sessions.loginWithSecondFactor(CONTEXT, {mfaToken: pending.mfaToken})).rejects.toMatchObject({code: 'validation.failed'})
  })

  it('budgets failed codes per user and IP (429 even for the right code), and locks the account after 10 consecutive failures', async () => {
    const {user, code} = await createMfaUser('code-budget')
    const step = await passwordStep(user.email)
    for (let failure = 0; failure < 5; failure += 1) await expect(codeStep(step.mfaToken, {code: 'abcdef'})).rejects.toMatchObject({code: 'auth.invalid_mfa_code'})
    await expect(codeStep(step.mfaToken, {code: code()})).rejects.toMatchObject({code: 'auth.too_many_attempts', details: {retry_after_seconds: 60}})
    t.clock.advance(MINUTE + 1)
    // Five more wrong codes (with a fresh mfa_token: the first one expires soon) make ten in a row.
    const again = await passwordStep(user.email)
    for (let failure = 0; failure < 5; failure += 1) await expect(codeStep(again.mfaToken, {code: 'abcdef'})).rejects.toMatchObject({code: 'auth.invalid_mfa_code'})
    t.clock.advance(MINUTE + 1)
    await expect(codeStep(again.mfaToken, {code: code()})).rejects.toMatchObject({code: 'auth.too_many_attempts'})
    await expect(t.core.sessions.beginLogin(CONTEXT, {email: user.email, password: PASSWORD})).rejects.toMatchObject({code: 'auth.too_many_attempts'})
    expect(await queuedMails(t.core, {to: user.email, kind: 'account_locked'})).toHaveLength(1)
    expect(await t.core.sessions.countActiveSessions()).toBe(0)
  })

  it('records a new device when the code step completes the login', async () => {
    const {user, code} = await createMfaUser('mfa-device')
    const laptop: RequestContext = {ip: '203.0.113.5', userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'}
    const phone: RequestContext = {ip: '198.51.100.5', userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'}
    await codeStep((await passwordStep(user.email, {}, laptop)).mfaToken, {code: code()}, laptop)
    t.clock.advance(STEP_MS)
    await codeStep((await passwordStep(user.email, {}, phone)).mfaToken, {code: code()}, phone)
    const events = await t.core.audit.listEventsAfter({afterSeq: 0, action: 'security.new_device'})
    expect(events.map((event) => event.metadata)).toEqual([{client: 'Safari on iOS', network: '198.51.100.0/24'}])
    expect(await queuedMails(t.core, {to: user.email, kind: 'new_device'})).toHaveLength(1)
  })
})

describeEachDialect('organizations that require 2FA', (dialect: DialectName) => {
  let t: TestCore
  beforeEach(async () => {
    t = await createMfaTestCore(dialect)
  })
  afterEach(async () => t?.close())

  const requireSecondFactor = (orgId: string) => t.core.database.db.updateTable('organization').set({require_2fa: 1}).where('id', '=', orgId).execute()

  it('refuse a login bound to them by a user without 2FA (only with the right password), and a switch-org into them', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'no-2fa')
    const {org: strict} = await t.core.orgs.createOrg(OPERATOR, {name: 'Strict', slug: 'strict', owner: user.id})
    const {org: relaxed} = await t.core.orgs.createOrg(OPERATOR, {name: 'Relaxed', slug: 'relaxed', owner: user.id})
    await requireSecondFactor(strict.id)
    await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: 'wrong', org: strict.slug})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
    await expect(t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD, org: strict.slug})).rejects.toMatchObject({code: 'auth.mfa_enrollment_required'})
    expect(await t.core.sessions.countActiveSessions()).toBe(0)
    // Unbound, or bound to another org: fine; switching into the strict one: refused.
    const tokens = await t.core.sessions.login(CONTEXT, {email: user.email, password: PASSWORD, org: relaxed.slug})
    const auth = await t.core.authenticator.authenticate(tokens.accessToken)
    await expect(t.core.sessions.switchOrg(auth, CONTEXT, {org: strict.slug, refreshToken: tokens.refreshToken})).rejects.toMatchObject({code: 'auth.mfa_enrollment_required'})
    await expect(t.core.sessions.switchOrg(auth, CONTEXT, {org: strict.id})).rejects.toMatchObject({code: 'auth.mfa_enrollment_required'})
    // The refresh token was not used up by the refused switch.
    await expect(t.core.sessions.refresh(CONTEXT, {refreshToken: tokens.refreshToken})).resolves.toMatchObject({tokenType: 'Bearer'})
  })

  it('let a user with 2FA in through the code step', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'with-2fa')
    const {org: strict} = await t.core.orgs.createOrg(OPERATOR, {name: 'Strict 2', slug: 'strict-2', owner: user.id})
    await requireSecondFactor(strict.id)
    const actor = userActor({userId: user.id, sessionId: 'setup', orgId: null}, CONTEXT)
    const {secret} = await t.core.mfa.setup(actor)
    await t.core.mfa.enable(actor, {password: PASSWORD, code: totpCode(secret, t.clock.now())})
    t.clock.advance(STEP_MS)
    const step = await t.core.sessions.beginLogin(CONTEXT, {email: user.email, password: PASSWORD, org: strict.slug})
    if (!step.mfaRequired) throw new Error('expected mfa_required')
    const tokens = await t.core.sessions.loginWithSecondFactor(CONTEXT, {mfaToken: step.mfaToken, code: totpCode(secret, t.clock.now())})
    const auth = await t.core.authenticator.authenticate(tokens.accessToken)
    expect(auth).toMatchObject({orgId: strict.id})
    await expect(t.core.sessions.switchOrg(auth, CONTEXT, {org: strict.slug})).resolves.toMatchObject({tokenType: 'Bearer'})
  })
})
