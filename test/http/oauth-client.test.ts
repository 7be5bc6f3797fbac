import {createRemoteJWKSet, jwtVerify} from 'jose'
import * as oidc from 'openid-client'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createAccessTokenIssuer} from '../../src/security/access-tokens.js'
import {createFixedClock} from '../../src/security/clock.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {findFreePort, request, startTestDaemon, type TestDaemon} from './http-harness.js'

// Issue 7, hole 7: a standard client (openid-client 6, jose) works unchanged — discovery, JWKS
// verification, introspection, revocation and the refresh grant — and the OAuth endpoints
// answer errors in RFC 6749's form. Plus hole 4's leftover: a token dated ahead is refused.

const PASSWORD = 'correct horse battery staple'
const CLIENT_SECRET = 'oauth-client-secret-for-tests-0123456789+/='
const CLIENT_ID = 'resource-server'

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()
const FORM = 'application/x-www-form-urlencoded'

describeEachDialect('standard OAuth clients', (dialect) => {
  let daemon: TestDaemon
  let confidential: oidc.Configuration
  let publicClient: oidc.Configuration
  let counter = 0

  async function session() {
    const email = `oauth-${++counter}-${dialect}@example.com`
    const response = await request(`${daemon.url}/v1/auth/register`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({email, password: PASSWORD})})
    expect(response.status, response.text).toBe(201)
    return {userId: response.json.user.id as string, sessionId: response.json.session_id as string, accessToken: response.json.access_token as string, refreshToken: response.json.refresh_token as string}
  }

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    request(`${daemon.url}${path}`, {method: 'POST', headers: {'content-type': FORM, ...headers}, body})

  /** The error an openid-client call failed with: the RFC 6749 error code, or what else it threw. */
  async function oauthErrorOf(call: Promise<unknown>): Promise<string> {
    const error = await call.then(
      () => null,
      (failure: unknown) => failure,
    )
    expect(error, 'the call should have failed').not.toBeNull()
    if (error instanceof oidc.ResponseBodyError) return error.error
    throw error
  }

  const introspect = (token: string) => oidc.tokenIntrospection(confidential, token)

  beforeAll(async () => {
    // The issuer must be the address the client discovers: a port chosen before the core is built.
    const port = await findFreePort()
    daemon = await startTestDaemon(dialect, {settings: {host: '127.0.0.1', port, introspectionSecret: CLIENT_SECRET}})
    daemon.testCore.core.config.introspectionSecret = CLIENT_SECRET
    const insecure = {execute: [oidc.allowInsecureRequests]}
    confidential = await oidc.discovery(new URL(daemon.url), CLIENT_ID, CLIENT_SECRET, oidc.ClientSecretBasic(CLIENT_SECRET), insecure)
    publicClient = await oidc.discovery(new URL(daemon.url), 'spa', undefined, oidc.None(), insecure)
  })
  afterAll(async () => {
    await daemon?.close()
  })

  describe('with openid-client', () => {
    it('discovers the endpoints: token, revocation, introspection, JWKS', () => {
      const metadata = confidential.serverMetadata()
      expect(metadata).toMatchObject({
        issuer: daemon.url,
        token_endpoint: `${daemon.url}/v1/oauth/token`,
        revocation_endpoint: `${daemon.url}/v1/oauth/revoke`,
        introspection_endpoint: `${daemon.url}/v1/tokens/introspect`,
        jwks_uri: `${daemon.url}/.well-known/jwks.json`,
        grant_types_supported: ['refresh_token'],
      })
    })

    it('verifies an access token with the discovered JWKS (jose)', async () => {
      const {accessToken, userId} = await session()
      const jwks = createRemoteJWKSet(new URL(confidential.serverMetadata().jwks_uri!))
      const {payload, protectedHeader} = await jwtVerify(accessToken, jwks, {
        issuer: daemon.url,
        audience: daemon.testCore.core.config.audience,
        algorithms: ['ES256'],
        // The daemon runs on the tests' fixed clock.
        currentDate: daemon.testCore.clock.now(),
      })
      expect(payload.sub).toBe(userId)
      expect(protectedHeader.alg).toBe('ES256')
    })

    it('introspects an access token: active, then inactive once revoked', async () => {
      const {accessToken, userId, sessionId} = await session()
      expect(await introspect(accessToken)).toMatchObject({active: true, sub: userId, sid: sessionId, token_type: 'access_token'})
      await oidc.tokenRevocation(confidential, accessToken, {token_type_hint: 'access_token'})
      expect(await introspect(accessToken)).toEqual({active: false})
    })

    it('revoking an access token leaves its session: the refresh token still works', async () => {
      const {accessToken, refreshToken} = await session()
      await oidc.tokenRevocation(publicClient, accessToken)
      expect((await request(`${daemon.url}/v1/auth/me`, {headers: {authorization: `Bearer ${accessToken}`}})).status).toBe(401)
      const refreshed = await oidc.refreshTokenGrant(publicClient, refreshToken)
      expect(await introspect(refreshed.access_token)).toMatchObject({active: true})
    })

    it('revokes a refresh token: its session ends (the access token goes inactive) and the refresh grant fails', async () => {
      const {accessToken, refreshToken} = await session()
      await oidc.tokenRevocation(confidential, refreshToken, {token_type_hint: 'refresh_token'})
      expect(await introspect(accessToken)).toEqual({active: false})
      expect(await oauthErrorOf(oidc.refreshTokenGrant(confidential, refreshToken))).toBe('invalid_grant')
      const [event] = await daemon.testCore.core.audit.listEvents({action: 'session.revoked'}, 1)
      expect(event).toMatchObject({target: {type: 'session'}, metadata: {reason: 'token_revoked'}})
    })

    it('revokes a refresh token for a public client too (no client authentication)', async () => {
      const {refreshToken} = await session()
      await oidc.tokenRevocation(publicClient, refreshToken)
      expect(await oauthErrorOf(oidc.refreshTokenGrant(publicClient, refreshToken))).toBe('invalid_grant')
    })

    it('the refresh grant rotates the refresh token, for a confidential and a public client', async () => {
      for (const configuration of [confidential, publicClient]) {
        const {refreshToken, userId} = await session()
        const first = await oidc.refreshTokenGrant(configuration, refreshToken)
        expect(first).toMatchObject({token_type: 'bearer', expires_in: daemon.testCore.core.config.accessTokenTtlSeconds})
        expect(first.refresh_token).toEqual(expect.any(String))
        expect(first.refresh_token).not.toBe(refreshToken)
        expect(await introspect(first.access_token)).toMatchObject({active: true, sub: userId})
        const second = await oidc.refreshTokenGrant(configuration, first.refresh_token!)
        expect(second.refresh_token).not.toBe(first.refresh_token)
      }
    })

    it('a reused refresh token is invalid_grant and revokes the session family', async () => {
      const {refreshToken} = await session()
      const rotated = await oidc.refreshTokenGrant(confidential, refreshToken)
      expect(await oauthErrorOf(oidc.refreshTokenGrant(confidential, refreshToken))).toBe('invalid_grant')
      // The thief's reuse ended the session: the legitimate client's newer tokens are void too.
      expect(await introspect(rotated.access_token)).toEqual({active: false})
      expect(await oauthErrorOf(oidc.refreshTokenGrant(confidential, rotated.refresh_token!))).toBe('invalid_grant')
      const [event] = await daemon.testCore.core.audit.listEvents({action: 'security.refresh_token_reuse'}, 1)
      expect(event?.metadata).toMatchObject({session_revoked: true})
    })

    it('a client with a wrong secret is refused (invalid_client) at every endpoint', async () => {
      const wrong = await oidc.discovery(new URL(daemon.url), CLIENT_ID, 'not-the-secret', oidc.ClientSecretBasic('not-the-secret'), {execute: [oidc.allowInsecureRequests]})
      const {accessToken, refreshToken} = await session()
      for (const call of [oidc.tokenIntrospection(wrong, accessToken), oidc.tokenRevocation(wrong, refreshToken), oidc.refreshTokenGrant(wrong, refreshToken)]) {
        const error = await call.then(() => null, (failure: unknown) => failure)
        // A 401 with a Basic challenge, as RFC 6749 §5.2 asks.
        expect(error).toBeInstanceOf(oidc.WWWAuthenticateChallengeError)
        expect((error as oidc.WWWAuthenticateChallengeError).cause[0]).toMatchObject({scheme: 'basic'})
      }
      // Nothing was revoked or rotated.
      expect(await introspect(accessToken)).toMatchObject({active: true})
      expect((await oidc.refreshTokenGrant(confidential, refreshToken)).access_token).toEqual(expect.any(String))
    })
  })

  describe('introspection in OAuth’s dialect', () => {
    it('takes a form body with HTTP Basic client credentials (any client_id, the secret form-encoded)', async () => {
      const {accessToken, userId} = await session()
      const response = await post('/v1/tokens/introspect', form({token: accessToken, token_type_hint: 'access_token'}), {authorization: basic('any client', CLIENT_SECRET)})
      expect(response.status, response.text).toBe(200)
      expect(response.json).toMatchObject({active: true, sub: userId})
    })

    it('takes client_secret_post, and the Basic password unencoded as well', async () => {
      const {accessToken} = await session()
      const posted = await post('/v1/tokens/introspect', form({token: accessToken, client_id: CLIENT_ID, client_secret: CLIENT_SECRET}))
      expect([posted.status, posted.json.active]).toEqual([200, true])
      const raw = await post('/v1/tokens/introspect', form({token: accessToken}), {authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`})
      expect([raw.status, raw.json.active]).toEqual([200, true])
    })

    it('refuses a wrong or missing client credential with 401 invalid_client in RFC 6749’s form', async () => {
      const {accessToken} = await session()
      const cases: Record<string, string>[] = [{authorization: basic(CLIENT_ID, 'wrong')}, {authorization: basic(CLIENT_ID, `${CLIENT_SECRET}x`)}, {authorization: 'Basic not base64!'}, {}]
      for (const headers of cases) {
        const response = await post('/v1/tokens/introspect', form({token: accessToken}), headers)
        expect({headers, status: response.status, error: response.json.error}).toEqual({headers, status: 401, error: 'invalid_client'})
        expect(Object.keys(response.json).sort()).toEqual(['error', 'error_description'])
        expect(response.headers.get('www-authenticate')).toBe('Basic realm="saas-ctl"')
        expect(response.headers.get('cache-control')).toBe('no-store')
      }
    })

    it('refuses two client authentication methods at once (invalid_request)', async () => {
      const {accessToken} = await session()
      const response = await post('/v1/tokens/introspect', form({token: accessToken, client_secret: CLIENT_SECRET}), {authorization: basic(CLIENT_ID, CLIENT_SECRET)})
      expect([response.status, response.json.error]).toEqual([400, 'invalid_request'])
    })

    it('still speaks the daemon’s dialect to JSON with a Bearer credential', async () => {
      const {accessToken} = await session()
      const ok = await post('/v1/tokens/introspect', JSON.stringify({token: accessToken}), {'content-type': 'application/json', authorization: `Bearer ${CLIENT_SECRET}`})
      expect([ok.status, ok.json.active]).toEqual([200, true])
      const refused = await post('/v1/tokens/introspect', JSON.stringify({token: accessToken}), {'content-type': 'application/json', authorization: 'Bearer wrong-secret'})
      expect([refused.status, refused.json.error.code]).toEqual([401, 'auth.invalid_client'])
    })
  })

  describe('the token endpoint', () => {
    it('answers the refresh grant with exactly the RFC 6749 §5.1 fields, never cached', async () => {
      const {refreshToken} = await session()
      const response = await post('/v1/oauth/token', form({grant_type: 'refresh_token', refresh_token: refreshToken}))
      expect(response.status, response.text).toBe(200)
      expect(Object.keys(response.json).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type'])
      expect(response.json.token_type).toBe('Bearer')
      expect({cacheControl: response.headers.get('cache-control'), pragma: response.headers.get('pragma')}).toEqual({cacheControl: 'no-store', pragma: 'no-cache'})
    })

    it('answers errors in RFC 6749 §5.2’s form', async () => {
      const {refreshToken} = await session()
      const cases: {name: string; body: string; headers?: Record<string, string>; status: number; error: string}[] = [
        {name: 'the password grant', body: form({grant_type: 'password', username: 'a@example.com', password: PASSWORD}), status: 400, error: 'unsupported_grant_type'},
        {name: 'the client_credentials grant', body: form({grant_type: 'client_credentials'}), status: 400, error: 'unsupported_grant_type'},
        {name: 'no grant_type', body: form({refresh_token: refreshToken}), status: 400, error: 'invalid_request'},
        {name: 'no refresh_token', body: form({grant_type: 'refresh_token'}), status: 400, error: 'invalid_request'},
        {name: 'a repeated parameter', body: `grant_type=refresh_token&refresh_token=${refreshToken}&refresh_token=x`, status: 400, error: 'invalid_request'},
        {name: 'an unknown refresh token', body: form({grant_type: 'refresh_token', refresh_token: 'not-a-refresh-token'}), status: 400, error: 'invalid_grant'},
        {name: 'a scope', body: form({grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'admin'}), status: 400, error: 'invalid_scope'},
        {name: 'a wrong secret (Basic)', body: form({grant_type: 'refresh_token', refresh_token: refreshToken}), headers: {authorization: basic(CLIENT_ID, 'wrong')}, status: 401, error: 'invalid_client'},
        {name: 'a wrong secret (client_secret_post)', body: form({grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID, client_secret: 'wrong'}), status: 401, error: 'invalid_client'},
        {name: 'an unsupported scheme', body: form({grant_type: 'refresh_token', refresh_token: refreshToken}), headers: {authorization: 'Digest x'}, status: 401, error: 'invalid_client'},
        {name: 'a body neither form nor JSON', body: 'grant_type=refresh_token', headers: {'content-type': 'text/plain'}, status: 415, error: 'invalid_request'},
      ]
      for (const refused of cases) {
        const response = await post('/v1/oauth/token', refused.body, refused.headers)
        expect({case: refused.name, status: response.status, error: response.json?.error}).toEqual({case: refused.name, status: refused.status, error: refused.error})
        expect({case: refused.name, keys: Object.keys(response.json).sort()}).toEqual({case: refused.name, keys: ['error', 'error_description']})
        expect(response.json.error_description).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/)
        expect(response.headers.get('cache-control')).toBe('no-store')
        if (refused.status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Basic /)
      }
      // None of those spent the refresh token.
      expect((await post('/v1/oauth/token', form({grant_type: 'refresh_token', refresh_token: refreshToken}))).status).toBe(200)
    })

    it('takes JSON too, and answers another method with 405 in RFC 6749’s form', async () => {
      const {refreshToken} = await session()
      const json = await post('/v1/oauth/token', JSON.stringify({grant_type: 'refresh_token', refresh_token: refreshToken}), {'content-type': 'application/json'})
      expect(json.status, json.text).toBe(200)
      const other = await request(`${daemon.url}/v1/oauth/token`)
      expect([other.status, other.json.error, other.headers.get('allow')]).toEqual([405, 'invalid_request', 'POST'])
    })
  })

  describe('the revocation endpoint', () => {
    it('answers 200 with no body for unknown, malformed and expired tokens (RFC 7009 §2.2)', async () => {
      for (const token of ['unknown-refresh-token', 'a.b.c', '']) {
        const response = await post('/v1/oauth/revoke', form({token}))
        expect({token, status: response.status, text: response.text}).toEqual({token, status: 200, text: ''})
      }
    })

    it('refuses an API key (unsupported_token_type) and a missing token (invalid_request)', async () => {
      const apiKey = await post('/v1/oauth/revoke', form({token: `sk_${'A'.repeat(43)}`}))
      expect([apiKey.status, apiKey.json.error]).toEqual([400, 'unsupported_token_type'])
      const missing = await post('/v1/oauth/revoke', form({token_type_hint: 'refresh_token'}))
      expect([missing.status, missing.json.error]).toEqual([400, 'invalid_request'])
    })

    it('refuses a wrong client secret and revokes nothing', async () => {
      const {refreshToken} = await session()
      const response = await post('/v1/oauth/revoke', form({token: refreshToken}), {authorization: basic(CLIENT_ID, 'wrong')})
      expect([response.status, response.json.error]).toEqual([401, 'invalid_client'])
      expect((await post('/v1/oauth/token', form({grant_type: 'refresh_token', refresh_token: refreshToken}))).status).toBe(200)
    })

    it('audits a revoked access token', async () => {
      const {accessToken, sessionId} = await session()
      expect((await post('/v1/oauth/revoke', form({token: accessToken}))).status).toBe(200)
      const [event] = await daemon.testCore.core.audit.listEvents({action: 'access_token.revoked'}, 1)
      expect(event).toMatchObject({target: {type: 'session', id: sessionId}})
      // A second revocation of the same token changes nothing more.
      expect((await post('/v1/oauth/revoke', form({token: accessToken}))).status).toBe(200)
      expect((await daemon.testCore.core.audit.listEvents({action: 'access_token.revoked'}, 100)).filter((audited) => audited.target?.id === sessionId)).toHaveLength(1)
    })
  })

  describe('discovery', () => {
    it('advertises only what the daemon does: no password grant, no ID-token algorithm, no userinfo or registration', async () => {
      for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
        const {status, json} = await request(`${daemon.url}${path}`)
        expect(status).toBe(200)
        expect(json.grant_types_supported).toEqual(['refresh_token'])
        expect(json).not.toHaveProperty('id_token_signing_alg_values_supported')
        expect(json).not.toHaveProperty('userinfo_endpoint')
        expect(json).not.toHaveProperty('registration_endpoint')
        expect(json).not.toHaveProperty('authorization_endpoint')
        expect(json.response_types_supported).toEqual([])
        expect(json.token_endpoint_auth_methods_supported).toEqual(['none', 'client_secret_basic', 'client_secret_post'])
        expect(json.revocation_endpoint_auth_methods_supported).toEqual(['none', 'client_secret_basic', 'client_secret_post'])
        expect(json.introspection_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post'])
      }
    })

    it('advertises no client secret methods while introspection_secret is unset', async () => {
      const {core} = daemon.testCore
      core.config.introspectionSecret = undefined
      try {
        const {json} = await request(`${daemon.url}/.well-known/openid-configuration`)
        expect(json.token_endpoint_auth_methods_supported).toEqual(['none'])
        expect(json.introspection_endpoint_auth_methods_supported).toEqual([])
      } finally {
        core.config.introspectionSecret = CLIENT_SECRET
      }
    })
  })

  describe('a token dated ahead of the clock (hole 4)', () => {
    async function tokenIssuedIn(seconds: number, user: {userId: string; sessionId: string}): Promise<string> {
      const {core, clock} = daemon.testCore
      const issuer = createAccessTokenIssuer({issuer: core.issuer, audience: core.config.audience, lifetimeSeconds: core.config.accessTokenTtlSeconds, clock: createFixedClock(clock.now()), keyProvider: core.keyProvider})
      return (await issuer.issue({...user, issuedAt: new Date(clock.now().getTime() + seconds * 1000)})).token
    }

    it('is refused beyond the 60 s leeway (reason issued_in_future, logged), accepted within it', async () => {
      const user = await session()
      const ahead = await tokenIssuedIn(120, user)
      const refused = await request(`${daemon.url}/v1/auth/me`, {headers: {authorization: `Bearer ${ahead}`}})
      expect([refused.status, refused.json.error.code]).toEqual([401, 'auth.invalid_token'])
      const logged = daemon.logs().filter((line) => line.msg === 'bearer token refused' && line.request_id === refused.json.request_id)
      expect(logged.map((line) => line.reason)).toEqual(['issued_in_future'])
      expect(await introspect(ahead)).toEqual({active: false})

      const withinLeeway = await tokenIssuedIn(30, user)
      expect((await request(`${daemon.url}/v1/auth/me`, {headers: {authorization: `Bearer ${withinLeeway}`}})).status).toBe(200)
    })
  })
})
