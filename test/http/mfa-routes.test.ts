import {afterAll, beforeAll, expect, it} from 'vitest'
import {OPERATOR} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {totpCode} from '../helpers/rfc6238.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// The 2FA enrolment routes over real HTTP, codes made by the tests' own RFC 6238 generator.

const PASSWORD = 'correct horse battery staple'
const FAILURES_PER_MINUTE = 3

describeEachDialect('2FA routes over HTTP', (dialect) => {
  let daemon: TestDaemon
  let counter = 0

  const post = (path: string, body: unknown, token?: string) =>
    request(`${daemon.url}${path}`, {
      method: 'POST',
      headers: {'content-type': 'application/json', ...(token ? {authorization: `Bearer ${token}`} : {})},
      body: JSON.stringify(body),
    })
  const get = (path: string, token: string) => request(`${daemon.url}${path}`, {headers: {authorization: `Bearer ${token}`}})
  const now = () => daemon.testCore.clock.now()
  const nextStep = () => daemon.testCore.clock.advance(30_000)

  /** A user made by the operator, logged in over HTTP (before 2FA a login answers tokens). */
  async function register(): Promise<{email: string; token: string}> {
    const email = `mfa-http-${++counter}-${dialect}@example.com`
    await daemon.testCore.core.users.createUser(OPERATOR, {email, password: PASSWORD})
    const response = await post('/v1/auth/login', {email, password: PASSWORD})
    expect(response.status).toBe(200)
    return {email, token: response.json.access_token}
  }

  function expectError(response: {status: number; json: any}, status: number, code: string) {
    expect({status: response.status, code: response.json?.error?.code}).toEqual({status, code})
  }
  function expectNoStore(response: {headers: Headers}) {
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('pragma')).toBe('no-cache')
  }

  beforeAll(async () => {
    daemon = await startTestDaemon(dialect, {settings: {failedAttemptsPerMinute: FAILURES_PER_MINUTE}})
  })
  afterAll(async () => daemon?.close())

  it('setup → enable → recovery codes → disable, end to end', async () => {
    const {email, token} = await register()
    expect((await get('/v1/auth/2fa', token)).json).toEqual({enabled: false, pending: false, recovery_codes_remaining: 0})

    const setup = await post('/v1/auth/2fa/setup', {}, token)
    expect(setup.status).toBe(200)
    expectNoStore(setup)
    expect(Object.keys(setup.json).sort()).toEqual(['otpauth_uri', 'qr_data_url', 'qr_svg', 'secret'])
    expect(setup.json.otpauth_uri).toContain(encodeURIComponent(email))
    expect(setup.json.qr_svg).toMatch(/^<svg/)
    const {secret} = setup.json
    expect((await get('/v1/auth/2fa', token)).json).toMatchObject({enabled: false, pending: true})

    expectError(await post('/v1/auth/2fa/enable', {password: PASSWORD, code: 'abc'}, token), 401, 'auth.invalid_mfa_code')
    // A stolen access token alone cannot enrol an authenticator: the password is required and checked.
    expectError(await post('/v1/auth/2fa/enable', {code: totpCode(secret, now())}, token), 422, 'validation.failed')
    expectError(await post('/v1/auth/2fa/enable', {password: 'not the password', code: totpCode(secret, now())}, token), 401, 'auth.invalid_credentials')
    expect((await get('/v1/auth/2fa', token)).json).toMatchObject({enabled: false, pending: true})
    const enabled = await post('/v1/auth/2fa/enable', {password: PASSWORD, code: totpCode(secret, now())}, token)
    expect(enabled.status).toBe(200)
    expectNoStore(enabled)
    expect(enabled.json.recovery_codes).toHaveLength(10)
    expect((await get('/v1/auth/2fa', token)).json).toEqual({enabled: true, pending: false, recovery_codes_remaining: 10})
    expectError(await post('/v1/auth/2fa/setup', {}, token), 409, 'mfa.already_enabled')

    // Nor take the recovery codes.
    expectError(await post('/v1/auth/2fa/recovery-codes', {}, token), 422, 'validation.failed')
    const regenerated = await post('/v1/auth/2fa/recovery-codes', {password: PASSWORD}, token)
    expect(regenerated.status).toBe(200)
    expectNoStore(regenerated)
    expect(regenerated.json.recovery_codes).toHaveLength(10)
    expect(regenerated.json.recovery_codes).not.toContain(enabled.json.recovery_codes[0])

    expectError(await post('/v1/auth/2fa/disable', {password: PASSWORD}, token), 422, 'validation.failed')
    // A wrong password and a right password with a wrong code get one answer: no password oracle.
    const wrongPassword = await post('/v1/auth/2fa/disable', {password: 'not the password', code: totpCode(secret, now(), 1)}, token)
    const wrongCode = await post('/v1/auth/2fa/disable', {password: PASSWORD, recovery_code: enabled.json.recovery_codes[0]}, token)
    expectError(wrongPassword, 401, 'auth.invalid_credentials')
    expectError(wrongCode, 401, 'auth.invalid_credentials')
    expect(wrongCode.json.error).toEqual(wrongPassword.json.error)
    expectError(await post('/v1/auth/2fa/disable', {password: PASSWORD, recovery_code: 'aaaaa-bbbbb'}, token), 401, 'auth.invalid_credentials')
    // Three failed codes of this user (the budget): the next try waits out the minute.
    expectError(await post('/v1/auth/2fa/disable', {password: PASSWORD, recovery_code: regenerated.json.recovery_codes[0]}, token), 429, 'auth.too_many_attempts')
    daemon.testCore.clock.advance(61_000)
    const disabled = await post('/v1/auth/2fa/disable', {password: PASSWORD, recovery_code: regenerated.json.recovery_codes[0]}, token)
    expect(disabled.status).toBe(204)
    expect((await get('/v1/auth/2fa', token)).json).toEqual({enabled: false, pending: false, recovery_codes_remaining: 0})
    expectError(await post('/v1/auth/2fa/recovery-codes', {password: PASSWORD}, token), 409, 'mfa.not_enabled')
  })

  it('disable takes a current TOTP code in `code`; the code that enabled it is used already', async () => {
    const {token} = await register()
    const {secret} = (await post('/v1/auth/2fa/setup', {}, token)).json
    const code = totpCode(secret, now())
    expect((await post('/v1/auth/2fa/enable', {password: PASSWORD, code}, token)).status).toBe(200)
    expectError(await post('/v1/auth/2fa/disable', {password: PASSWORD, code}, token), 401, 'auth.invalid_credentials')
    nextStep()
    expect((await post('/v1/auth/2fa/disable', {password: PASSWORD, code: totpCode(secret, now())}, token)).status).toBe(204)
  })

  it('enable without setup is 409 mfa.setup_required; no token is 401', async () => {
    const {token} = await register()
    expectError(await post('/v1/auth/2fa/enable', {password: PASSWORD, code: '123456'}, token), 409, 'mfa.setup_required')
    expectError(await post('/v1/auth/2fa/setup', {}), 401, 'auth.invalid_token')
  })

  it('failed codes beyond failed_attempts_per_minute are 429 auth.too_many_attempts with Retry-After', async () => {
    const {token} = await register()
    const {secret} = (await post('/v1/auth/2fa/setup', {}, token)).json
    for (let attempt = 0; attempt < FAILURES_PER_MINUTE; attempt += 1) expectError(await post('/v1/auth/2fa/enable', {password: PASSWORD, code: '000000'}, token), 401, 'auth.invalid_mfa_code')
    const throttled = await post('/v1/auth/2fa/enable', {password: PASSWORD, code: totpCode(secret, now())}, token)
    expectError(throttled, 429, 'auth.too_many_attempts')
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0)
    // Another user on the same IP has a budget of their own.
    const other = await register()
    const otherSetup = (await post('/v1/auth/2fa/setup', {}, other.token)).json
    expect((await post('/v1/auth/2fa/enable', {password: PASSWORD, code: totpCode(otherSetup.secret, now())}, other.token)).status).toBe(200)
    daemon.testCore.clock.advance(61_000)
    expect((await post('/v1/auth/2fa/enable', {password: PASSWORD, code: totpCode(secret, now())}, token)).status).toBe(200)
  })
})
