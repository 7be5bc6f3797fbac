import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {SYSTEM_ACTOR} from '../../../src/access/principal.js'
import {loadConfig} from '../../../src/config/load-config.js'
import type {DialectName} from '../../../src/db/database-url.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {request, startTestDaemon} from '../../http/http-harness.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {CONTEXT, createPasswordUser, loginAs, SECOND} from './identity-fixture.js'

// A session slides with each refresh (refresh_token_ttl_seconds from then), but never lives past
// session_absolute_ttl_seconds after its login.

const HOUR = 3600 * SECOND
const REFRESH_TTL_SECONDS = 24 * 3600
const ABSOLUTE_TTL_SECONDS = 72 * 3600

describe('session_absolute_ttl_seconds', () => {
  const load = (values: Record<string, unknown>) => loadConfig({flags: {databaseUrl: ':memory:', ...values}, env: {}, cwd: process.cwd()}).config

  it('defaults to 90 days and reads SAASCTL_SESSION_ABSOLUTE_TTL_SECONDS', () => {
    expect(load({}).sessionAbsoluteTtlSeconds).toBe(7_776_000)
    expect(loadConfig({flags: {databaseUrl: ':memory:'}, env: {SAASCTL_SESSION_ABSOLUTE_TTL_SECONDS: '86400'}, cwd: process.cwd()}).config.sessionAbsoluteTtlSeconds).toBe(86_400)
  })

  it('refuses a value under a minute, over ten years, or not a whole number (config.invalid)', () => {
    for (const value of [59, 315_360_001, 1.5, 'soon']) expect(() => load({sessionAbsoluteTtlSeconds: value})).toThrow(expect.objectContaining({code: 'config.invalid'}))
  })
})

describeEachDialect('identity: absolute session lifetime', (dialect: DialectName) => {
  let t: TestCore
  beforeEach(async () => {
    t = await createTestCore(dialect, {refreshTokenTtlSeconds: REFRESH_TTL_SECONDS, sessionAbsoluteTtlSeconds: ABSOLUTE_TTL_SECONDS})
    await t.core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
  })
  afterEach(async () => t?.close())

  const refresh = (refreshToken: string) => t.core.sessions.refresh(CONTEXT, {refreshToken})
  const sessionRow = (id: string) => t.core.database.db.selectFrom('session').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  const refreshTokenExpiries = async (sessionId: string) =>
    (await t.core.database.db.selectFrom('refresh_token').select('expires_at').where('session_id', '=', sessionId).where('rotated_at', 'is', null).execute()).map((row) => row.expires_at)

  it('a session refreshed every 20 hours slides until its absolute end, never past it, and is refused from then on', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'absolute')
    const {tokens} = await loginAs(t.core, user.email)
    const loginAt = t.clock.now().getTime()
    const absoluteEnd = new Date(loginAt + ABSOLUTE_TTL_SECONDS * SECOND).toISOString()
    expect((await sessionRow(tokens.sessionId)).expires_at).toBe(new Date(loginAt + REFRESH_TTL_SECONDS * SECOND).toISOString())

    let current = tokens
    // 20 h and 40 h: a full refresh TTL from each refresh.
    for (const hours of [20, 40]) {
      t.clock.set(new Date(loginAt + hours * HOUR))
      current = await refresh(current.refreshToken)
      const slid = new Date(loginAt + (hours + 24) * HOUR).toISOString()
      expect((await sessionRow(tokens.sessionId)).expires_at).toBe(slid)
      expect(await refreshTokenExpiries(tokens.sessionId)).toEqual([slid])
    }
    // 60 h: 60 + 24 > 72, so the session and its refresh token expire at the absolute end.
    t.clock.set(new Date(loginAt + 60 * HOUR))
    current = await refresh(current.refreshToken)
    expect((await sessionRow(tokens.sessionId)).expires_at).toBe(absoluteEnd)
    expect(await refreshTokenExpiries(tokens.sessionId)).toEqual([absoluteEnd])
    expect((await t.core.sessions.listSessions(OPERATOR, {user: user.id})).map((session) => session.expiresAt)).toEqual([absoluteEnd])
    // A second before the end it still refreshes, and still ends then.
    t.clock.set(new Date(Date.parse(absoluteEnd) - SECOND))
    current = await refresh(current.refreshToken)
    expect((await sessionRow(tokens.sessionId)).expires_at).toBe(absoluteEnd)
    // At the end: refused, as an expired token is.
    t.clock.set(new Date(absoluteEnd))
    await expect(refresh(current.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
  })

  it('refuses a session older than the absolute lifetime even when its sliding expiry says otherwise (a session from before the setting)', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'legacy')
    const {tokens, auth} = await loginAs(t.core, user.email)
    const far = new Date(t.clock.now().getTime() + 365 * 24 * HOUR).toISOString()
    await t.core.database.db.updateTable('session').set({expires_at: far}).where('id', '=', tokens.sessionId).execute()
    await t.core.database.db.updateTable('refresh_token').set({expires_at: far}).where('session_id', '=', tokens.sessionId).execute()
    t.clock.advance(ABSOLUTE_TTL_SECONDS * SECOND)
    await expect(refresh(tokens.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
    // switch-org with that session ends too, however it is asked.
    const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Legacy', slug: 'legacy', owner: user.id})
    await expect(t.core.sessions.switchOrg(auth, CONTEXT, {org: org.slug})).rejects.toMatchObject({code: 'auth.invalid_token'})
  })

  it('switch-org with a refresh token rotates it within the absolute lifetime', async () => {
    const user = await createPasswordUser(t.core, OPERATOR, 'switch')
    const {org} = await t.core.orgs.createOrg(OPERATOR, {name: 'Switch', slug: 'switch-abs', owner: user.id})
    const {tokens, auth} = await loginAs(t.core, user.email)
    const loginAt = t.clock.now().getTime()
    let refreshed = tokens
    for (const hours of [20, 40, 60]) {
      t.clock.set(new Date(loginAt + hours * HOUR))
      refreshed = await refresh(refreshed.refreshToken)
    }
    t.clock.advance(HOUR)
    const switched = await t.core.sessions.switchOrg({...auth, sessionId: refreshed.sessionId}, CONTEXT, {org: org.slug, refreshToken: refreshed.refreshToken})
    const absoluteEnd = new Date(loginAt + ABSOLUTE_TTL_SECONDS * SECOND).toISOString()
    expect((await sessionRow(tokens.sessionId)).expires_at).toBe(absoluteEnd)
    expect(await refreshTokenExpiries(tokens.sessionId)).toEqual([absoluteEnd])
    t.clock.set(new Date(absoluteEnd))
    await expect(refresh(switched.refreshToken!)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})
  })
})

describeEachDialect('absolute session lifetime over HTTP', (dialect: DialectName) => {
  it('GET /v1/auth/me shows the capped expiry, and POST /v1/auth/refresh answers 401 auth.invalid_refresh_token at the absolute end', async () => {
    const daemon = await startTestDaemon(dialect, {settings: {refreshTokenTtlSeconds: REFRESH_TTL_SECONDS, sessionAbsoluteTtlSeconds: ABSOLUTE_TTL_SECONDS}})
    try {
      const {clock} = daemon.testCore
      const post = (path: string, body: unknown) => request(`${daemon.url}${path}`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)})
      const registered = await post('/v1/auth/register', {email: `absolute-http-${dialect}@example.com`, password: 'correct horse battery staple'})
      expect(registered.status).toBe(201)
      const loginAt = clock.now().getTime()
      let refreshToken: string = registered.json.refresh_token
      let accessToken = ''
      for (const hours of [20, 40, 60]) {
        clock.set(new Date(loginAt + hours * HOUR))
        const refreshed = await post('/v1/auth/refresh', {refresh_token: refreshToken})
        expect(refreshed.status).toBe(200)
        ;({refresh_token: refreshToken, access_token: accessToken} = refreshed.json)
      }
      const absoluteEnd = new Date(loginAt + ABSOLUTE_TTL_SECONDS * SECOND).toISOString()
      const me = await request(`${daemon.url}/v1/auth/me`, {headers: {authorization: `Bearer ${accessToken}`}})
      expect(me.status).toBe(200)
      expect(me.json.session.expires_at).toBe(absoluteEnd)
      clock.set(new Date(absoluteEnd))
      const refused = await post('/v1/auth/refresh', {refresh_token: refreshToken})
      expect({status: refused.status, code: refused.json?.error?.code}).toEqual({status: 401, code: 'auth.invalid_refresh_token'})
    } finally {
      await daemon.close()
    }
  })
})
