import {createHash, createHmac} from 'node:crypto'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {userActor, type Actor} from '../../../src/access/principal.js'
import type {DialectName} from '../../../src/db/database-url.js'
import {isSealed} from '../../../src/security/encryption.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {queuedMails} from '../../helpers/outbox-mail.js'
import {hotp, totpCode} from '../../helpers/rfc6238.js'
import {createPasswordUser, PASSWORD} from './identity-fixture.js'

const ORIGIN = {ip: '198.51.100.9', userAgent: 'vitest mfa suite', requestId: 'req-mfa'}
const STEP_MS = 30_000

describe('the independent RFC 6238 generator of these tests', () => {
  it('gives the RFC test vector (SHA1, T = 59 s: 94287082, last 6 digits)', () => {
    expect(hotp(Buffer.from('12345678901234567890'), 1)).toBe('287082')
    expect(totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', new Date(59_000))).toBe('287082')
  })
})

describeEachDialect('TOTP 2FA', (dialect: DialectName) => {
  let t: TestCore
  let actor: Actor
  let userId: string
  let email: string

  beforeEach(async () => {
    t = await createTestCore(dialect, {failedAttemptsPerMinute: 100})
    const user = await createPasswordUser(t.core, OPERATOR, 'mfa')
    userId = user.id
    email = user.email
    actor = userActor({userId, sessionId: 'session-of-test', orgId: null}, ORIGIN)
  })
  afterEach(async () => t.close())

  const now = () => t.clock.now()
  /** setup + enable with a code from the independent generator; returns the secret and codes. */
  async function enrol(): Promise<{secret: string; recoveryCodes: string[]}> {
    const {secret} = await t.core.mfa.setup(actor)
    const {recoveryCodes} = await t.core.mfa.enable(actor, {password: PASSWORD, code: totpCode(secret, now())})
    // Later codes in these tests come from the next steps: the enabling code's step is used.
    t.clock.advance(STEP_MS)
    return {secret, recoveryCodes}
  }
  const verify = (proof: {code?: string; recoveryCode?: string}) => t.core.database.db.transaction().execute((tx) => t.core.mfa.verify(tx, userId, proof))

  it('setup gives a base32 secret, an otpauth URI (issuer, account) and QR codes; the row holds it sealed', async () => {
    const setup = await t.core.mfa.setup(actor)
    expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/)
    const uri = new URL(setup.otpauthUri)
    expect(uri.protocol).toBe('otpauth:')
    expect(decodeURIComponent(uri.pathname)).toBe(`/saas-ctl:${email}`)
    expect(uri.searchParams.get('secret')).toBe(setup.secret)
    expect(uri.searchParams.get('issuer')).toBe('saas-ctl')
    expect(setup.qrSvg).toMatch(/^<svg/)
    expect(setup.qrDataUrl).toMatch(/^data:image\/png;base64,/)
    const row = await t.core.database.db.selectFrom('totp_credential').selectAll().where('user_id', '=', userId).executeTakeFirstOrThrow()
    expect(isSealed(row.secret_sealed)).toBe(true)
    expect(JSON.stringify(row)).not.toContain(setup.secret)
    expect(row.confirmed_at).toBeNull()
    expect(await t.core.mfa.isEnabled(t.core.database.db, userId)).toBe(false)
  })

  it('enable accepts a code of the independent generator, returns 10 distinct recovery codes, audits and mails', async () => {
    const {recoveryCodes} = await enrol()
    expect(recoveryCodes).toHaveLength(10)
    expect(new Set(recoveryCodes).size).toBe(10)
    for (const code of recoveryCodes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/)
    expect(await t.core.mfa.isEnabled(t.core.database.db, userId)).toBe(true)
    const stored = await t.core.database.db.selectFrom('recovery_code').select('code_hash').where('user_id', '=', userId).execute()
    expect(stored).toHaveLength(10)
    for (const code of recoveryCodes) expect(JSON.stringify(stored)).not.toContain(code)
    // Keyed with the secret key and bound to the user: not a plain SHA-256 a database copy alone could be checked against.
    const plain = recoveryCodes.map((code) => createHash('sha256').update(code.replace('-', ''), 'utf8').digest('hex'))
    const keyed = recoveryCodes.map((code) => createHmac('sha256', t.core.secretKey.get()).update(`recovery_code:${userId}:${code.replace('-', '')}`, 'utf8').digest('hex'))
    expect(stored.map((row) => row.code_hash).filter((hash) => plain.includes(hash))).toEqual([])
    expect(stored.map((row) => row.code_hash).sort()).toEqual([...keyed].sort())
    const events = await t.core.audit.listEventsAfter({afterSeq: 0, action: 'user.mfa_enabled'})
    expect(events).toHaveLength(1)
    expect((await queuedMails(t.core, {to: email, kind: 'mfa_enabled'})).length).toBe(1)
  })

  it('re-running setup before enable replaces the pending secret: only the newest one confirms', async () => {
    const first = await t.core.mfa.setup(actor)
    const second = await t.core.mfa.setup(actor)
    expect(second.secret).not.toBe(first.secret)
    await expect(t.core.mfa.enable(actor, {password: PASSWORD, code: totpCode(first.secret, now())})).rejects.toMatchObject({code: 'auth.invalid_mfa_code'})
    await t.core.mfa.enable(actor, {password: PASSWORD, code: totpCode(second.secret, now())})
    expect(await t.core.mfa.isEnabled(t.core.database.db, userId)).toBe(true)
  })

  it('enable without a setup is mfa.setup_required; a wrong code is auth.invalid_mfa_code; setup once on is mfa.already_enabled', async () => {
    await expect(t.core.mfa.enable(actor, {password: PASSWORD, code: '123456'})).rejects.toMatchObject({code: 'mfa.setup_required'})
    const {secret} = await t.core.mfa.setup(actor)
    const wrong = String((Number(totpCode(secret, now())) + 1) % 1_000_000).padStart(6, '0')
    await expect(t.core.mfa.enable(actor, {password: PASSWORD, code: wrong})).rejects.toMatchObject({code: 'auth.invalid_mfa_code'})
    await t.core.mfa.enable(actor, {password: PASSWORD, code: totpCode(secret, now())})
    await expect(t.core.mfa.setup(actor)).rejects.toMatchObject({code: 'mfa.already_enabled'})
    await expect(t.core.mfa.enable(actor, {password: PASSWORD, code: totpCode(secret, now(), 1)})).rejects.toMatchObject({code: 'mfa.already_enabled'})
  })

  it('verify accepts the current code and ±1 step, refuses ±2 steps', async () => {
    const {secret} = await enrol()
    t.clock.advance(2 * STEP_MS) // the step before now is unused too
    expect(await verify({code: totpCode(secret, now(), -2)})).toBeNull()
    expect(await verify({code: totpCode(secret, now(), 2)})).toBeNull()
    expect(await verify({code: totpCode(secret, now(), -1)})).toBe('totp')
    expect(await verify({code: totpCode(secret, now())})).toBe('totp')
    expect(await verify({code: totpCode(secret, now(), 1)})).toBe('totp')
  })

  it('a code already used is refused (replay), also an older step after a newer one', async () => {
    const {secret} = await enrol()
    const code = totpCode(secret, now())
    expect(await verify({code})).toBe('totp')
    expect(await verify({code})).toBeNull()
    // The enabling code's step is used too.
    expect(await verify({code: totpCode(secret, now(), -1)})).toBeNull()
    t.clock.advance(STEP_MS)
    expect(await verify({code})).toBeNull() // now the previous step: within the window, but used
    expect(await verify({code: totpCode(secret, now())})).toBe('totp')
  })

  it('two concurrent verifications of one code: exactly one passes', async () => {
    const {secret} = await enrol()
    const code = totpCode(secret, now())
    const results = await Promise.all([verify({code}), verify({code})])
    expect(results.filter((result) => result === 'totp')).toHaveLength(1)
  })

  it('recovery codes work once each, with any case and without the dash; a code in `code` also counts', async () => {
    const {recoveryCodes} = await enrol()
    const [first, second] = recoveryCodes as [string, string]
    expect(await verify({recoveryCode: first.toUpperCase().replace('-', '')})).toBe('recovery')
    expect(await verify({recoveryCode: first})).toBeNull()
    expect(await verify({code: second})).toBe('recovery')
    expect(await verify({code: second})).toBeNull()
    expect(await verify({recoveryCode: 'aaaaa-aaaaa'})).toBeNull()
    expect((await t.core.mfa.statusOf(t.core.database.db, userId)).recoveryCodesRemaining).toBe(8)
  })

  it('regenerating recovery codes kills the old ones; it needs 2FA on', async () => {
    await expect(t.core.mfa.regenerateRecoveryCodes(actor, {password: PASSWORD})).rejects.toMatchObject({code: 'mfa.not_enabled'})
    const {recoveryCodes: old} = await enrol()
    const {recoveryCodes: fresh} = await t.core.mfa.regenerateRecoveryCodes(actor, {password: PASSWORD})
    expect(fresh).toHaveLength(10)
    expect(await verify({recoveryCode: old[0]})).toBeNull()
    expect(await verify({recoveryCode: fresh[0]})).toBe('recovery')
    expect(await t.core.audit.listEventsAfter({afterSeq: 0, action: 'user.mfa_recovery_codes_regenerated'})).toHaveLength(1)
  })

  it('disable needs the password and a code (TOTP or recovery); audited and mailed', async () => {
    const {secret, recoveryCodes} = await enrol()
    await expect(t.core.mfa.disable(actor, {password: 'wrong password!', code: totpCode(secret, now())})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
    // A right password with a wrong code is answered like a wrong password: disable is no password oracle.
    await expect(t.core.mfa.disable(actor, {password: PASSWORD, code: '000000'})).rejects.toMatchObject({code: 'auth.invalid_credentials'})
    await expect(t.core.mfa.disable(actor, {password: PASSWORD})).rejects.toMatchObject({code: 'validation.failed'})
    expect(await t.core.mfa.isEnabled(t.core.database.db, userId)).toBe(true)
    await t.core.mfa.disable(actor, {password: PASSWORD, recoveryCode: recoveryCodes[3]})
    expect(await t.core.mfa.isEnabled(t.core.database.db, userId)).toBe(false)
    expect(await t.core.database.db.selectFrom('recovery_code').selectAll().where('user_id', '=', userId).execute()).toHaveLength(0)
    expect(await t.core.audit.listEventsAfter({afterSeq: 0, action: 'user.mfa_disabled'})).toHaveLength(1)
    expect(await queuedMails(t.core, {to: email, kind: 'mfa_disabled'})).toHaveLength(1)
    await expect(t.core.mfa.disable(actor, {password: PASSWORD, code: totpCode(secret, now())})).rejects.toMatchObject({code: 'mfa.not_enabled'})
  })

  it('disable with a TOTP code; afterwards setup starts over', async () => {
    const {secret} = await enrol()
    await t.core.mfa.disable(actor, {password: PASSWORD, code: totpCode(secret, now())})
    const again = await t.core.mfa.setup(actor)
    expect(again.secret).not.toBe(secret)
  })

  it('wrong codes beyond failed_attempts_per_minute are 429 auth.too_many_attempts, per user', async () => {
    await t.close()
    t = await createTestCore(dialect, {failedAttemptsPerMinute: 2})
    const user = await createPasswordUser(t.core, OPERATOR, 'mfa-budget')
    actor = userActor({userId: user.id, sessionId: 's', orgId: null}, ORIGIN)
    const {secret} = await t.core.mfa.setup(actor)
    await expect(t.core.mfa.enable(actor, {password: PASSWORD, code: '000000'})).rejects.toMatchObject({code: 'auth.invalid_mfa_code'})
    await expect(t.core.mfa.enable(actor, {password: PASSWORD, code: '000001'})).rejects.toMatchObject({code: 'auth.invalid_mfa_code'})
    await expect(t.core.mfa.enable(actor, {password: PASSWORD, code: totpCode(secret, now())})).rejects.toMatchObject({code: 'auth.too_many_attempts', details: {retry_after_seconds: expect.any(Number)}})
    t.clock.advance(61_000)
    await t.core.mfa.enable(actor, {password: PASSWORD, code: totpCode(secret, now())})
    const attempts = await t.core.database.db.selectFrom('auth_attempt').select(['kind', 'outcome', 'ip']).where('user_id', '=', user.id).where('kind', '=', 'mfa').execute()
    expect(attempts.map((attempt) => attempt.outcome).sort()).toEqual(['failure', 'failure', 'success', 'throttled'])
    expect(attempts.every((attempt) => attempt.ip === ORIGIN.ip)).toBe(true)
    // Each code came with the password, confirmed through the login's guard (right: recorded as a success).
    const confirmations = await t.core.database.db.selectFrom('auth_attempt').select('outcome').where('user_id', '=', user.id).where('kind', '=', 'login').execute()
    expect(confirmations.map((attempt) => attempt.outcome)).toEqual(['success', 'success', 'success', 'success'])
  })

  it('an operator resets a lost device: credential and recovery codes go, audited, mailed; users may not', async () => {
    await enrol()
    await expect(t.core.mfa.resetForUser(actor, {user: email})).rejects.toMatchObject({code: 'platform.required'})
    const result = await t.core.mfa.resetForUser(OPERATOR, {user: email})
    expect(result.user.id).toBe(userId)
    expect(await t.core.mfa.isEnabled(t.core.database.db, userId)).toBe(false)
    expect(await t.core.database.db.selectFrom('recovery_code').selectAll().where('user_id', '=', userId).execute()).toHaveLength(0)
    expect(await t.core.audit.listEventsAfter({afterSeq: 0, action: 'user.mfa_reset'})).toHaveLength(1)
    expect(await queuedMails(t.core, {to: email, kind: 'mfa_reset'})).toHaveLength(1)
    await expect(t.core.mfa.resetForUser(OPERATOR, {user: email})).rejects.toMatchObject({code: 'mfa.not_enabled'})
  })

  it('an operator enrols a named user; a user cannot name another', async () => {
    const other = await createPasswordUser(t.core, OPERATOR, 'mfa-other')
    await expect(t.core.mfa.setup(actor, {user: other.email})).rejects.toMatchObject({code: 'platform.required'})
    await expect(t.core.mfa.setup(OPERATOR)).rejects.toMatchObject({code: 'validation.failed'})
    const {secret} = await t.core.mfa.setup(OPERATOR, {user: other.email})
    const {recoveryCodes} = await t.core.mfa.enable(OPERATOR, {user: other.email, code: totpCode(secret, now())})
    expect(recoveryCodes).toHaveLength(10)
    expect(await t.core.mfa.isEnabled(t.core.database.db, other.id)).toBe(true)
  })

  it('deleting a user deletes their credential and recovery codes', async () => {
    await enrol()
    await t.core.users.deleteUser(OPERATOR, {user: userId})
    expect(await t.core.database.db.selectFrom('totp_credential').selectAll().where('user_id', '=', userId).execute()).toHaveLength(0)
    expect(await t.core.database.db.selectFrom('recovery_code').selectAll().where('user_id', '=', userId).execute()).toHaveLength(0)
  })
})
