import {createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type JsonWebKey, type KeyObject} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {INVALID_TOKEN_MESSAGE} from '../../daemon/http-errors.js'
import {inTransaction} from '../../src/db/transaction.js'
import {appendRevocations} from '../../src/identity/revocation-log.js'
import {startRevocationFollower, type RevocationFollower} from '../../src/identity/revocation-follower.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {OPERATOR} from '../helpers/test-core.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// Every token attack gets 401 auth.invalid_token on a protected route, and `active: false` from
// introspection. Attack tokens are built here with node:crypto only; those that need the
// daemon's own key (wrong iss/aud, expired) read it from the signing_key table, as an insider
// with the database would. The revocation follower is wired as `saas-ctl serve` wires it.

const PASSWORD = 'correct horse battery staple'
// The introspection route reads core.config.introspectionSecret; the harness builds the core
// from its own config (startTestDaemon's `settings` reach only the app), so the test sets it there.
const INTROSPECTION_SECRET = 'introspection-secret-for-tests-0123456789'

type Claims = Record<string, unknown>
type Header = Record<string, unknown>

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

function signEs256(header: Header, claims: Claims, key: KeyObject, dsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363'): string {
  const input = `${encode(header)}.${encode(claims)}`
  return `${input}.${sign('sha256', Buffer.from(input), {key, dsaEncoding}).toString('base64url')}`
}

function signHs256(header: Header, claims: Claims, secret: string): string {
  const input = `${encode(header)}.${encode(claims)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8'))
}

interface Session {
  userId: string
  email: string
  accessToken: string
  refreshToken: string
  sessionId: string
  orgId: string
  claims: Claims
  header: Header
}

interface DaemonKey {
  kid: string
  privateKey: KeyObject
  publicJwk: JsonWebKey
  publishedJwk: JsonWebKey
}

interface AttackContext {
  session(): Promise<Session>
  daemonKey: DaemonKey
  /** Now by the daemon's clock, in seconds. */
  nowSeconds(): number
  daemon: TestDaemon
  follower: RevocationFollower
  send(method: string, path: string, token?: string, body?: unknown): ReturnType<typeof request>
}

interface TokenAttack {
  name: string
  /** The reason logged for the 401 (never answered); a list when more than one revocation applies. */
  reason: string | string[]
  token(context: AttackContext): Promise<string>
}

const foreign = generateKeyPairSync('ec', {namedCurve: 'P-256'})

const TOKEN_ATTACKS: TokenAttack[] = [
  {name: 'a malformed token (not a JWT)', reason: 'malformed', token: async () => 'not-a-jwt'},
  {name: 'three segments of garbage', reason: 'malformed', token: async () => 'a.b.c'},
  {name: 'a payload that is not JSON, under the original signature', reason: 'bad_signature', token: async ({session}) => {
    const [header, , signature] = (await session()).accessToken.split('.')
    return `${header}.${Buffer.from('{not json').toString('base64url')}.${signature}`
  }},
  {name: 'a payload that is not JSON, signed by the daemon’s key', reason: 'malformed', token: async ({session, daemonKey}) => {
    const input = `${encode((await session()).header)}.${Buffer.from('{not json').toString('base64url')}`
    return `${input}.${sign('sha256', Buffer.from(input), {key: daemonKey.privateKey, dsaEncoding: 'ieee-p1363'}).toString('base64url')}`
  }},
  {name: 'a JWE-shaped token (five segments)', reason: 'malformed', token: async ({session}) => `${(await session()).accessToken}.e30.e30`},
  {name: 'a flipped signature byte', reason: 'bad_signature', token: async ({session}) => {
    const [header, payload, signature] = (await session()).accessToken.split('.')
    const bytes = Buffer.from(signature!, 'base64url')
    bytes[10] = bytes[10]! ^ 0x01
    return `${header}.${payload}.${bytes.toString('base64url')}`
  }},
  {name: 'a truncated signature', reason: 'bad_signature', token: async ({session}) => {
    const [header, payload, signature] = (await session()).accessToken.split('.')
    return `${header}.${payload}.${Buffer.from(signature!, 'base64url').subarray(0, 32).toString('base64url')}`
  }},
  {name: 'no signature at all', reason: ['bad_signature', 'malformed'], token: async ({session}) => {
    const [header, payload] = (await session()).accessToken.split('.')
    return `${header}.${payload}.`
  }},
  {name: 'claims changed under the original signature (role escalated, other org)', reason: 'bad_signature', token: async ({session}) => {
    const {accessToken, claims} = await session()
    const [header, , signature] = accessToken.split('.')
    return `${header}.${encode({...claims, role: 'owner', org: 'some-other-org', sub: 'someone-else'})}.${signature}`
  }},
  {name: 'a DER-encoded signature by the daemon’s key', reason: 'bad_signature', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    return signEs256(header, claims, daemonKey.privateKey, 'der')
  }},
  {name: 'alg none, unsigned, claims copied', reason: 'bad_algorithm', token: async ({session}) => {
    const {header, claims} = await session()
    return `${encode({...header, alg: 'none'})}.${encode(claims)}.`
  }},
  {name: 'alg "None", unsigned', reason: 'bad_algorithm', token: async ({session}) => {
    const {header, claims} = await session()
    return `${encode({...header, alg: 'None'})}.${encode(claims)}.`
  }},
  {name: 'alg none with the original signature kept', reason: 'bad_algorithm', token: async ({session}) => {
    const {accessToken, header, claims} = await session()
    return `${encode({...header, alg: 'none'})}.${encode(claims)}.${accessToken.split('.')[2]}`
  }},
  {name: 'alg none without kid or typ', reason: ['bad_algorithm', 'malformed'], token: async ({session}) => `${encode({alg: 'none'})}.${encode((await session()).claims)}.`},
  {name: 'HS256 keyed with the published JWK (JSON)', reason: 'bad_algorithm', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    return signHs256({...header, alg: 'HS256'}, claims, JSON.stringify(daemonKey.publishedJwk))
  }},
  {name: 'HS256 keyed with the bare public JWK (JSON)', reason: 'bad_algorithm', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    return signHs256({...header, alg: 'HS256'}, claims, JSON.stringify(daemonKey.publicJwk))
  }},
  {name: 'HS256 keyed with the public key PEM (SPKI)', reason: 'bad_algorithm', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    const pem = createPublicKey({key: daemonKey.publicJwk, format: 'jwk'}).export({type: 'spki', format: 'pem'}).toString()
    return signHs256({...header, alg: 'HS256'}, claims, pem)
  }},
  {name: 'HS256 keyed with the public key PEM without its final newline', reason: 'bad_algorithm', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    const pem = createPublicKey({key: daemonKey.publicJwk, format: 'jwk'}).export({type: 'spki', format: 'pem'}).toString().trimEnd()
    return signHs256({...header, alg: 'HS256'}, claims, pem)
  }},
  {name: 'ES384 in the header with the daemon’s kid', reason: 'bad_algorithm', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    return signEs256({...header, alg: 'ES384'}, claims, daemonKey.privateKey)
  }},
  {name: 'RS256 in the header with the daemon’s kid', reason: 'bad_algorithm', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    return signEs256({...header, alg: 'RS256'}, claims, daemonKey.privateKey)
  }},
  {name: 'a foreign ES256 key claiming the daemon’s kid', reason: 'bad_signature', token: async ({session}) => {
    const {header, claims} = await session()
    return signEs256(header, claims, foreign.privateKey)
  }},
  {name: 'a foreign ES256 key with a kid of its own', reason: 'unknown_key', token: async ({session}) => {
    const {header, claims} = await session()
    return signEs256({...header, kid: 'attacker-key-1'}, claims, foreign.privateKey)
  }},
  {name: 'a foreign key embedded in the header (jwk), no kid', reason: 'malformed', token: async ({session}) => {
    const {header, claims} = await session()
    const {kid: _kid, ...withoutKid} = header
    return signEs256({...withoutKid, jwk: foreign.publicKey.export({format: 'jwk'})}, claims, foreign.privateKey)
  }},
  {name: 'a foreign key embedded in the header (jwk) with the daemon’s kid', reason: 'bad_signature', token: async ({session}) => {
    const {header, claims} = await session()
    return signEs256({...header, jwk: foreign.publicKey.export({format: 'jwk'})}, claims, foreign.privateKey)
  }},
  {name: 'a foreign key announced by jku', reason: 'bad_signature', token: async ({session}) => {
    const {header, claims} = await session()
    return signEs256({...header, jku: 'http://127.0.0.1:1/evil-jwks.json'}, claims, foreign.privateKey)
  }},
  {name: 'the daemon’s key, no kid', reason: 'malformed', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    const {kid: _kid, ...withoutKid} = header
    return signEs256(withoutKid, claims, daemonKey.privateKey)
  }},
  {name: 'the daemon’s key, wrong iss', reason: 'wrong_issuer', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    return signEs256(header, {...claims, iss: 'https://evil.example.com'}, daemonKey.privateKey)
  }},
  {name: 'the daemon’s key, no iss', reason: 'wrong_issuer', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    const {iss: _iss, ...withoutIss} = claims
    return signEs256(header, withoutIss, daemonKey.privateKey)
  }},
  {name: 'the daemon’s key, wrong aud', reason: 'wrong_audience', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    return signEs256(header, {...claims, aud: 'another-service'}, daemonKey.privateKey)
  }},
  {name: 'the daemon’s key, aud as a list of others', reason: 'wrong_audience', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    return signEs256(header, {...claims, aud: ['another-service', 'a-third']}, daemonKey.privateKey)
  }},
  {name: 'the daemon’s key, expired (exp in the past)', reason: 'expired', token: async ({session, daemonKey, nowSeconds}) => {
    const {header, claims} = await session()
    return signEs256(header, {...claims, iat: nowSeconds() - 1000, exp: nowSeconds() - 100}, daemonKey.privateKey)
  }},
  {name: 'the daemon’s key, no exp', reason: 'malformed', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    const {exp: _exp, ...withoutExp} = claims
    return signEs256(header, withoutExp, daemonKey.privateKey)
  }},
  {name: 'the daemon’s key, not valid before a time to come (nbf)', reason: 'malformed', token: async ({session, daemonKey, nowSeconds}) => {
    const {header, claims} = await session()
    return signEs256(header, {...claims, nbf: nowSeconds() + 600}, daemonKey.privateKey)
  }},
  {name: 'the daemon’s key, no sid', reason: 'malformed', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    const {sid: _sid, ...withoutSid} = claims
    return signEs256(header, withoutSid, daemonKey.privateKey)
  }},
  {name: 'the daemon’s key, typ other than JWT', reason: 'malformed', token: async ({session, daemonKey}) => {
    const {header, claims} = await session()
    return signEs256({...header, typ: 'at+jwt+evil'}, claims, daemonKey.privateKey)
  }},
  {name: 'a real token past its 15 minutes', reason: 'expired', token: async ({session, daemon}) => {
    const {accessToken} = await session()
    // Moved forward here and back in the test's finally (see below): the clock is shared.
    daemon.testCore.clock.advance(901_000)
    return accessToken
  }},
  {name: 'a real token, accepted once (so remembered as verified), then past its 15 minutes', reason: 'expired', token: async ({session, daemon, send}) => {
    const {accessToken} = await session()
    expect((await send('GET', '/v1/auth/me', accessToken)).status).toBe(200)
    daemon.testCore.clock.advance(901_000)
    return accessToken
  }},
  {name: 'a revoked jti, accepted once before', reason: 'token_revoked', token: async ({session, daemon, follower, send}) => {
    const {accessToken, claims} = await session()
    expect((await send('GET', '/v1/auth/me', accessToken)).status).toBe(200)
    const now = daemon.testCore.clock.now()
    await inTransaction(daemon.testCore.core.database.db, (tx) =>
      appendRevocations(tx, [{kind: 'token', subject: claims.jti as string, reason: 'test', createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + 900_000).toISOString()}]),
    )
    await follower.syncNow()
    return accessToken
  }},
  {name: 'a revoked jti', reason: 'token_revoked', token: async ({session, daemon, follower}) => {
    const {accessToken, claims} = await session()
    const now = daemon.testCore.clock.now()
    await inTransaction(daemon.testCore.core.database.db, (tx) =>
      appendRevocations(tx, [{kind: 'token', subject: claims.jti as string, reason: 'test', createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + 900_000).toISOString()}]),
    )
    await follower.syncNow()
    return accessToken
  }},
  {name: 'the token of a logged-out session', reason: 'session_revoked', token: async ({session, send}) => {
    const {accessToken} = await session()
    expect((await send('POST', '/v1/auth/logout', accessToken)).status).toBe(204)
    return accessToken
  }},
  {name: 'the token of a session revoked from another session', reason: 'session_revoked', token: async ({session, send}) => {
    const {accessToken, sessionId, email} = await session()
    const other = await send('POST', '/v1/auth/login', undefined, {email, password: PASSWORD})
    expect((await send('DELETE', `/v1/auth/sessions/${sessionId}`, other.json.access_token)).status).toBe(204)
    return accessToken
  }},
  {name: 'the token of a session whose refresh token was reused', reason: 'session_revoked', token: async ({session, send}) => {
    const {refreshToken} = await session()
    const rotated = await send('POST', '/v1/auth/refresh', undefined, {refresh_token: refreshToken})
    expect(rotated.status).toBe(200)
    expect((await send('POST', '/v1/auth/refresh', undefined, {refresh_token: refreshToken})).status).toBe(401)
    return rotated.json.access_token
  }},
  {name: 'a token of a disabled user', reason: ['session_revoked', 'user_revoked'], token: async ({session, daemon}) => {
    const {accessToken, userId} = await session()
    await daemon.testCore.core.users.disableUser(OPERATOR, {user: userId})
    return accessToken
  }},
  {name: 'a token of a deleted user', reason: ['session_revoked', 'user_revoked'], token: async ({daemon, send}) => {
    const email = `deleted-${Math.random().toString(36).slice(2)}@example.com`
    // A user without a personal organization (a sole owner cannot be deleted).
    const {user} = await daemon.testCore.core.users.createUser(OPERATOR, {email, password: PASSWORD})
    const login = await send('POST', '/v1/auth/login', undefined, {email, password: PASSWORD})
    expect(login.status).toBe(200)
    await daemon.testCore.core.users.deleteUser(OPERATOR, {user: user.id})
    return login.json.access_token
  }},
  {name: 'a token issued before the user’s password change', reason: ['session_revoked', 'user_revoked'], token: async ({session, daemon, send}) => {
    const {accessToken} = await session()
    daemon.testCore.clock.advance(2000)
    expect((await send('POST', '/v1/auth/change-password', accessToken, {current_password: PASSWORD, new_password: 'another long password'})).status).toBe(200)
    return accessToken
  }},
  {name: 'a token issued before the password change, naming the new session', reason: 'user_revoked', token: async ({session, daemon, daemonKey, send}) => {
    // Only the user's "not before" can refuse it: the session it names is live.
    const {accessToken, header, claims} = await session()
    daemon.testCore.clock.advance(2000)
    const changed = await send('POST', '/v1/auth/change-password', accessToken, {current_password: PASSWORD, new_password: 'another long password'})
    expect(changed.status).toBe(200)
    return signEs256(header, {...claims, sid: changed.json.session_id, jti: `${claims.jti as string}-x`}, daemonKey.privateKey)
  }},
]

interface HeaderAttack {
  name: string
  reason: string
  headers(token: string): Record<string, string>
  path?: (token: string) => string
}

const HEADER_ATTACKS: HeaderAttack[] = [
  {name: 'no Authorization header', reason: 'missing', headers: () => ({})},
  {name: 'an empty Authorization header', reason: 'missing', headers: () => ({authorization: ''})},
  {name: 'the scheme alone', reason: 'malformed', headers: () => ({authorization: 'Bearer'})},
  {name: 'the token without a scheme', reason: 'malformed', headers: (token) => ({authorization: token})},
  {name: 'a Basic credential', reason: 'malformed', headers: () => ({authorization: `Basic ${Buffer.from(`user:${PASSWORD}`).toString('base64')}`})},
  {name: 'another scheme with the token', reason: 'malformed', headers: (token) => ({authorization: `Token ${token}`})},
  {name: 'the token followed by garbage', reason: 'malformed', headers: (token) => ({authorization: `Bearer ${token} garbage`})},
  {name: 'two bearer tokens in one header', reason: 'malformed', headers: (token) => ({authorization: `Bearer ${token}, Bearer ${token}`})},
  {name: 'characters outside the token alphabet', reason: 'malformed', headers: () => ({authorization: 'Bearer {"alg":"none"}'})},
  {name: 'a very long bearer value', reason: 'malformed', headers: () => ({authorization: `Bearer ${'A'.repeat(8000)}`})},
  {name: 'the token in the query string instead', reason: 'missing', headers: () => ({}), path: (token) => `/v1/auth/me?access_token=${token}`},
  {name: 'the token in a cookie instead', reason: 'missing', headers: (token) => ({cookie: `access_token=${token}`})},
]

describeEachDialect('auth attacks', (dialect) => {
  let daemon: TestDaemon
  let follower: RevocationFollower
  let daemonKey: DaemonKey
  let emailCounter = 0

  const send = (method: string, path: string, token?: string, body?: unknown) =>
    request(`${daemon.url}${path}`, {
      method,
      headers: {...(body === undefined ? {} : {'content-type': 'application/json'}), ...(token ? {authorization: `Bearer ${token}`} : {})},
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  const introspect = (token: string, credential: string | null = INTROSPECTION_SECRET) =>
    request(`${daemon.url}/v1/tokens/introspect`, {
      method: 'POST',
      headers: {'content-type': 'application/json', ...(credential === null ? {} : {authorization: `Bearer ${credential}`})},
      body: JSON.stringify({token}),
    })

  async function newSession(): Promise<Session> {
    const email = `attack-${++emailCounter}-${dialect}@example.com`
    const response = await send('POST', '/v1/auth/register', undefined, {email, password: PASSWORD})
    expect(response.status).toBe(201)
    const accessToken = response.json.access_token as string
    return {userId: response.json.user.id, email, accessToken, refreshToken: response.json.refresh_token, sessionId: response.json.session_id, orgId: response.json.org.id, claims: decodePart(accessToken, 1), header: decodePart(accessToken, 0)}
  }

  const context = (): AttackContext => ({
    session: newSession,
    daemonKey,
    nowSeconds: () => Math.floor(daemon.testCore.clock.now().getTime() / 1000),
    daemon,
    follower,
    send,
  })

  // The wire says only auth.invalid_token (one message, details null); why the token was refused
  // is read from the daemon's log line for that request, so each attack is still checked to
  // fail for its own flaw.
  async function expectRefused(response: {status: number; json: any}, reason: string | string[]) {
    expect({status: response.status, code: response.json?.error?.code, details: response.json?.error?.details}).toEqual({status: 401, code: 'auth.invalid_token', details: null})
    expect(response.json.error.message).toBe(INVALID_TOKEN_MESSAGE)
    const logged = daemon.logs().filter((line) => line.msg === 'bearer token refused' && line.request_id === response.json.request_id)
    expect(logged).toHaveLength(1)
    expect(Array.isArray(reason) ? reason : [reason]).toContain(logged[0]!.reason)
  }

  beforeAll(async () => {
    daemon = await startTestDaemon(dialect, {settings: {introspectionSecret: INTROSPECTION_SECRET}})
    const {core} = daemon.testCore
    core.config.introspectionSecret = INTROSPECTION_SECRET
    follower = await startRevocationFollower({db: core.database.db, cache: core.revocations, clock: core.clock, pollMilliseconds: 100})
    const unsubscribe = core.revocationSignal.subscribe(() => follower.syncNow())
    daemon.running.addShutdownHook({name: 'revocation signal', stop: () => void unsubscribe()})
    daemon.running.addShutdownHook({name: 'revocation follower', stop: () => follower.stop()})
    // The private key is stored encrypted (issue 7): read it through the store, as the daemon does.
    const row = (await core.signingKeys.loadTrustedKeys()).find((key) => key.retiredAt === null)!
    const published = (await request(`${daemon.url}/.well-known/jwks.json`)).json.keys.find((key: {kid: string}) => key.kid === row.kid)
    daemonKey = {kid: row.kid, privateKey: createPrivateKey({key: row.privateJwk, format: 'jwk'}), publicJwk: row.publicJwk, publishedJwk: published}
  })
  afterAll(async () => {
    await daemon?.close()
  })

  describe('the controls are accepted', () => {
    it('a token the daemon issued', async () => {
      const {accessToken} = await newSession()
      expect((await send('GET', '/v1/auth/me', accessToken)).status).toBe(200)
    })

    it('a token this test signs with the daemon’s key and the same claims (so the forgeries below fail for their flaw alone)', async () => {
      const {header, claims} = await newSession()
      const forged = signEs256(header, {...claims, jti: `${claims.jti as string}-copy`}, daemonKey.privateKey)
      expect((await send('GET', '/v1/auth/me', forged)).status).toBe(200)
      expect((await introspect(forged)).json.active).toBe(true)
    })

    it('the scheme in lower case (RFC 6750 schemes are case-insensitive)', async () => {
      const {accessToken} = await newSession()
      expect((await request(`${daemon.url}/v1/auth/me`, {headers: {authorization: `bearer ${accessToken}`}})).status).toBe(200)
    })
  })

  describe.each(HEADER_ATTACKS)('Authorization: $name', (attack) => {
    it('gets 401 auth.invalid_token', async () => {
      const {accessToken} = await newSession()
      const response = await request(`${daemon.url}${attack.path?.(accessToken) ?? '/v1/auth/me'}`, {headers: attack.headers(accessToken)})
      await expectRefused(response, attack.reason)
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /)
    })
  })

  describe.each(TOKEN_ATTACKS)('token: $name', (attack) => {
    it('gets 401 auth.invalid_token on GET /v1/auth/me and active: false from introspection', async () => {
      const start = daemon.testCore.clock.now()
      try {
        const token = await attack.token(context())
        await expectRefused(await send('GET', '/v1/auth/me', token), attack.reason)
        await expectRefused(await send('GET', '/v1/auth/sessions', token), attack.reason)
        const introspected = await introspect(token)
        expect(introspected.status).toBe(200)
        expect(introspected.json).toEqual({active: false})
      } finally {
        // Time only moves forward across tests, except past a token's lifetime.
        if (daemon.testCore.clock.now().getTime() - start.getTime() > 60_000) daemon.testCore.clock.set(new Date(start.getTime() + 1000))
      }
    })
  })

  describe('introspection', () => {
    it('describes an active token bound to an org: sub, org, role, exp and the rest', async () => {
      const {accessToken, userId, orgId, sessionId, claims} = await newSession()
      const response = await introspect(accessToken)
      expect(response.status).toBe(200)
      expect(response.json).toEqual({
        active: true,
        token_type: 'access_token',
        sub: userId,
        sid: sessionId,
        org: orgId,
        role: 'owner',
        email_verified: false,
        jti: claims.jti,
        iss: claims.iss,
        aud: claims.aud,
        iat: claims.iat,
        exp: claims.exp,
      })
    })

    it('describes an unbound token without org or role', async () => {
      const {email} = await newSession()
      const login = await send('POST', '/v1/auth/login', undefined, {email, password: PASSWORD})
      const response = await introspect(login.json.access_token)
      expect(response.json.active).toBe(true)
      expect(response.json).not.toHaveProperty('org')
      expect(response.json).not.toHaveProperty('role')
    })

    it('answers active: false for an empty token', async () => {
      expect((await introspect('')).json).toEqual({active: false})
    })

    describe.each([
      {name: 'no credential', headers: (): Record<string, string> => ({})},
      {name: 'a wrong credential', headers: (): Record<string, string> => ({authorization: 'Bearer wrong-secret-wrong-secret'})},
      {name: 'the credential with a character more', headers: (): Record<string, string> => ({authorization: `Bearer ${INTROSPECTION_SECRET}x`})},
      {name: 'a prefix of the credential', headers: (): Record<string, string> => ({authorization: `Bearer ${INTROSPECTION_SECRET.slice(0, 16)}`})},
      // (The credential as the password of HTTP Basic is accepted: RFC 7662, see oauth-client.test.ts.)
      {name: 'the credential in another scheme', headers: (): Record<string, string> => ({authorization: `Token ${INTROSPECTION_SECRET}`})},
      {name: 'the credential with garbage after it', headers: (): Record<string, string> => ({authorization: `Bearer ${INTROSPECTION_SECRET} more`})},
    ])('with $name', ({headers}) => {
      it('answers 401 auth.invalid_client', async () => {
        const {accessToken} = await newSession()
        const response = await request(`${daemon.url}/v1/tokens/introspect`, {method: 'POST', headers: {'content-type': 'application/json', ...headers()}, body: JSON.stringify({token: accessToken})})
        expect({status: response.status, code: response.json.error.code}).toEqual({status: 401, code: 'auth.invalid_client'})
        expect(response.text).not.toContain(accessToken.split('.')[1])
      })
    })

    it('answers 401 auth.invalid_client to a user’s access token used as the credential', async () => {
      const {accessToken} = await newSession()
      const response = await introspect(accessToken, accessToken)
      expect({status: response.status, code: response.json.error.code}).toEqual({status: 401, code: 'auth.invalid_client'})
    })

    it('refuses every caller when no secret is configured', async () => {
      const {core} = daemon.testCore
      const {accessToken} = await newSession()
      core.config.introspectionSecret = undefined
      try {
        for (const credential of [INTROSPECTION_SECRET, null]) {
          const response = await introspect(accessToken, credential)
          expect({status: response.status, code: response.json.error.code}).toEqual({status: 401, code: 'auth.invalid_client'})
        }
      } finally {
        core.config.introspectionSecret = INTROSPECTION_SECRET
      }
    })
  })
})
