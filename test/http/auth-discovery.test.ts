import {spawn} from 'node:child_process'
import {createPublicKey, verify, type JsonWebKey} from 'node:crypto'
import {once} from 'node:events'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, expect, it} from 'vitest'
import type {DialectName} from '../../src/db/database-url.js'
import {BIN} from '../helpers/run-cli.js'
import {OPERATOR} from '../helpers/test-core.js'
import {createTestDatabase, describeEachDialect, secretKeyEnvFor} from '../helpers/test-database.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// Discovery as an outside verifier sees it: the issuer, the OpenID configuration, the JWKS, and
// a signature checked with node:crypto alone (not our code, not jose).

const PASSWORD = 'correct horse battery staple'

function splitJwt(token: string): {header: Record<string, any>; payload: Record<string, any>; signingInput: Buffer; signature: Buffer} {
  const [header, payload, signature] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')),
    signingInput: Buffer.from(`${header}.${payload}`, 'ascii'),
    signature: Buffer.from(signature!, 'base64url'),
  }
}

/** A generic ES256 check: the key comes from the JWKS by kid; only node:crypto verifies. */
function verifyWithJwks(token: string, jwks: {keys: Record<string, unknown>[]}): boolean {
  const {header, signingInput, signature} = splitJwt(token)
  if (header.alg !== 'ES256') return false
  const jwk = jwks.keys.find((key) => key.kid === header.kid)
  if (!jwk) return false
  const key = createPublicKey({key: jwk as JsonWebKey, format: 'jwk'})
  return verify('sha256', signingInput, {key, dsaEncoding: 'ieee-p1363'}, signature)
}

interface ServeProcess {
  url: string
  stop(): Promise<number | null>
}

/** `saas-ctl serve --port 0` as a real process (the built binary), on a fresh database of the dialect. */
async function startServeOnAnyPort(dialect: DialectName): Promise<ServeProcess> {
  const cwd = mkdtempSync(path.join(tmpdir(), 'saasctl-discovery-'))
  const database = dialect === 'postgres' ? await createTestDatabase('postgres') : null
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SAASCTL_')))
  const env = {...inherited, NODE_ENV: 'production', SAASCTL_LOG_LEVEL: 'warn', ...(database ? {SAASCTL_DATABASE_URL: database.url, ...secretKeyEnvFor(database.url)} : {})}
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...(database ? ['--migrate'] : [])], {cwd, env, stdio: ['ignore', 'ignore', 'pipe']})
  const cleanUp = async () => {
    await database?.drop()
    rmSync(cwd, {recursive: true, force: true})
  }
  let stderr = ''
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      const match = /saas-ctl listening on (http:\/\/\S+)/.exec(stderr)
      if (match) resolve(match[1]!)
    })
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)))
  }).catch(async (error: unknown) => {
    await cleanUp()
    throw error
  })
  return {
    url,
    async stop() {
      const exited = child.exitCode === null ? (once(child, 'exit') as Promise<[number | null]>) : Promise.resolve([child.exitCode] as [number | null])
      child.kill('SIGTERM')
      const [code] = await exited
      await cleanUp()
      return code
    },
  }
}

describeEachDialect('auth discovery and JWKS', (dialect) => {
  let daemon: TestDaemon
  let emailCounter = 0
  const stopAfterTest: (() => Promise<void>)[] = []

  async function register(baseUrl: string): Promise<any> {
    const response = await request(`${baseUrl}/v1/auth/register`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({email: `discovery-${++emailCounter}-${dialect}@example.com`, password: PASSWORD}),
    })
    expect(response.status).toBe(201)
    return response.json
  }

  beforeAll(async () => {
    daemon = await startTestDaemon(dialect)
  })
  afterEach(async () => {
    while (stopAfterTest.length > 0) await stopAfterTest.pop()!()
  })
  afterAll(async () => {
    await daemon?.close()
  })

  it('publishes P-256 public keys only, with a short cache lifetime', async () => {
    const response = await request(`${daemon.url}/.well-known/jwks.json`)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/)
    expect(response.json.keys.length).toBeGreaterThanOrEqual(1)
    for (const key of response.json.keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
      expect(key).toMatchObject({kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig'})
    }
    expect(response.text).not.toMatch(/"d"\s*:/)
  })

  it('the OpenID configuration agrees with the tokens: issuer, jwks_uri, endpoints', async () => {
    const configuration = await request(`${daemon.url}/.well-known/openid-configuration`)
    expect(configuration.status).toBe(200)
    const {issuer, jwks_uri: jwksUri} = configuration.json
    expect(jwksUri).toBe(`${issuer}/.well-known/jwks.json`)
    // No ID tokens are issued (issue 7, hole 7): no ID-token algorithm; the keys say theirs.
    expect(configuration.json).not.toHaveProperty('id_token_signing_alg_values_supported')
    expect(configuration.json.introspection_endpoint).toBe(`${issuer}/v1/tokens/introspect`)
    expect(configuration.json.token_endpoint).toBe(`${issuer}/v1/oauth/token`)
    expect(configuration.json.claims_supported).toEqual(expect.arrayContaining(['iss', 'aud', 'sub', 'sid', 'jti', 'iat', 'exp', 'org', 'role', 'email_verified']))

    const registered = await register(daemon.url)
    const {payload} = splitJwt(registered.access_token)
    expect(payload.iss).toBe(issuer)
    expect(payload.aud).toBe(daemon.testCore.core.config.audience)

    // The harness's core has its own config (port 4000), so the JWKS is fetched at the jwks_uri's path on the daemon.
    const jwks = await request(`${daemon.url}${new URL(jwksUri).pathname}`)
    expect(jwks.status).toBe(200)
    expect(verifyWithJwks(registered.access_token, jwks.json)).toBe(true)
  })

  it('a token verifies with the JWKS over HTTP using only node:crypto; a tampered one does not', async () => {
    const registered = await register(daemon.url)
    const jwks = (await request(`${daemon.url}/.well-known/jwks.json`)).json
    expect(verifyWithJwks(registered.access_token, jwks)).toBe(true)

    const [header, payload, signature] = registered.access_token.split('.')
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    const tamperedPayload = Buffer.from(JSON.stringify({...claims, role: 'admin'})).toString('base64url')
    expect(verifyWithJwks(`${header}.${tamperedPayload}.${signature}`, jwks)).toBe(false)
  })

  it('after a key rotation both keys are published: tokens of the old and of the new key verify', async () => {
    const before = await register(daemon.url)
    const oldKid = splitJwt(before.access_token).header.kid
    await daemon.testCore.core.signingKeys.rotate(OPERATOR)
    const after = await register(daemon.url)
    const newKid = splitJwt(after.access_token).header.kid
    expect(newKid).not.toBe(oldKid)

    const jwks = (await request(`${daemon.url}/.well-known/jwks.json`)).json
    expect(jwks.keys.map((key: {kid: string}) => key.kid)).toEqual(expect.arrayContaining([oldKid, newKid]))
    expect(verifyWithJwks(before.access_token, jwks)).toBe(true)
    expect(verifyWithJwks(after.access_token, jwks)).toBe(true)
    for (const token of [before.access_token, after.access_token]) {
      expect((await request(`${daemon.url}/v1/auth/me`, {headers: {authorization: `Bearer ${token}`}})).status).toBe(200)
    }
  })

  it('`saas-ctl serve --port 0`: a verifier given only the issuer URL finds the configuration and the JWKS, and verifies the token', async () => {
    const serve = await startServeOnAnyPort(dialect)
    stopAfterTest.push(async () => {
      expect(await serve.stop()).toBe(0)
    })
    const registered = await register(serve.url)
    const {payload} = splitJwt(registered.access_token)
    // The issuer is the address the daemon really listens on, not port 0.
    expect(payload.iss).toBe(serve.url)

    const configuration = await request(`${payload.iss}/.well-known/openid-configuration`)
    expect(configuration.status).toBe(200)
    expect(configuration.json.issuer).toBe(payload.iss)
    const jwks = await request(configuration.json.jwks_uri)
    expect(jwks.status).toBe(200)
    expect(verifyWithJwks(registered.access_token, jwks.json)).toBe(true)
  })
})
