import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {insertOneTimeToken} from '../../src/identity/one-time-token-repo.js'
import {latestMail, tokenFromMail} from '../helpers/outbox-mail.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, STACK_FRAME, startTestDaemon, type TestDaemon} from './http-harness.js'

// Bad input on every identity endpoint: a 4xx JSON error with a stable code and a request id,
// never a 500, never a stack trace. Table-driven: each POST route is described once, and the
// scenarios are generated from the description.

const PASSWORD = 'correct horse battery staple'
const INTROSPECTION_SECRET = 'introspection-secret-for-tests-0123456789'
const BODY_LIMIT_BYTES = 102_400
const JSON_TYPE = {'content-type': 'application/json'}

/** A fresh account per scenario, so no scenario sees what another changed. */
interface Account {
  email: string
  orgSlug: string
  accessToken: string
  refreshToken: string
  sessionId: string
  /** From the verification mail registration sent. */
  verifyToken: string
  /** A password reset link's token, made for the scenario. */
  resetToken: string
}

type Expected = {status: number; code: string} | 'no-server-error'

interface Scenario {
  name: string
  method: string
  path: string | ((account: Account) => string)
  /** Which credential goes in Authorization (a valid one), so the request reaches validation. */
  auth?: 'token' | 'introspection'
  headers?: Record<string, string>
  body?: string | Uint8Array<ArrayBuffer> | ((account: Account) => string)
  expected: Expected
}

interface PostRoute {
  path: string
  auth?: 'token' | 'introspection'
  validBody(account: Account, unique: string): Record<string, unknown>
  successStatus: number
  required: string[]
  /** Every string field, and a length beyond its limit. */
  strings: Record<string, number>
  /** Also takes form bodies, answering them in OAuth's dialect (see oauth-client.test.ts). */
  takesForm?: boolean
  /** New passwords: the policy, not the schema, judges their length (password.too_weak). */
  newPasswords?: string[]
}

const POST_ROUTES: PostRoute[] = [
  {
    path: '/v1/auth/register',
    validBody: (_account, unique) => ({email: `new-${unique}@example.com`, password: PASSWORD, name: 'New User', org_name: 'New Org'}),
    successStatus: 201,
    required: ['email', 'password'],
    strings: {email: 300, password: 257, name: 201, org_name: 201},
    newPasswords: ['password'],
  },
  {
    path: '/v1/auth/login',
    validBody: (account) => ({email: account.email, password: PASSWORD, org: account.orgSlug}),
    successStatus: 200,
    required: ['email', 'password'],
    strings: {email: 255, password: 4097, org: 101},
  },
  {
    path: '/v1/auth/refresh',
    validBody: (account) => ({refresh_token: account.refreshToken}),
    successStatus: 200,
    required: ['refresh_token'],
    strings: {refresh_token: 513},
  },
  {
    path: '/v1/auth/switch-org',
    auth: 'token',
    validBody: (account) => ({org: account.orgSlug}),
    successStatus: 200,
    required: ['org'],
    strings: {org: 101},
  },
  {
    path: '/v1/auth/change-password',
    auth: 'token',
    validBody: () => ({current_password: PASSWORD, new_password: 'a different long password'}),
    successStatus: 200,
    required: ['current_password', 'new_password'],
    strings: {current_password: 4097, new_password: 257},
    newPasswords: ['new_password'],
  },
  {
    path: '/v1/auth/verify-email',
    validBody: (account) => ({token: account.verifyToken}),
    successStatus: 200,
    required: ['token'],
    strings: {token: 513},
  },
  {
    path: '/v1/auth/password/forgot',
    validBody: (account) => ({email: account.email}),
    successStatus: 202,
    required: ['email'],
    strings: {email: 300},
  },
  {
    path: '/v1/auth/password/reset',
    validBody: (account) => ({token: account.resetToken, password: 'a different long password'}),
    successStatus: 204,
    required: ['token', 'password'],
    strings: {token: 513, password: 257},
    newPasswords: ['password'],
  },
  {
    path: '/v1/auth/email',
    auth: 'token',
    validBody: (_account, unique) => ({email: `changed-${unique}@example.com`, password: PASSWORD}),
    successStatus: 200,
    required: ['email', 'password'],
    strings: {email: 300, password: 4097},
  },
  {
    path: '/v1/tokens/introspect',
    auth: 'introspection',
    validBody: (account) => ({token: account.accessToken, token_type_hint: 'access_token'}),
    successStatus: 200,
    required: ['token'],
    strings: {token: 8193, token_type_hint: 65},
    takesForm: true,
  },
]

const invalid = {status: 422, code: 'validation.failed'}
const tooWeak = {status: 422, code: 'password.too_weak'}
const malformed = {status: 400, code: 'http.malformed_json'}
const unsupported = {status: 415, code: 'http.unsupported_media_type'}

function scenariosOf(route: PostRoute): Scenario[] {
  const base = {method: 'POST', path: route.path, auth: route.auth}
  let counter = 0
  const unique = () => `${route.path.split('/').pop()}-${++counter}-${Math.random().toString(36).slice(2, 8)}`
  const withField = (field: string, value: unknown) => (account: Account) => JSON.stringify({...route.validBody(account, unique()), [field]: value})
  const without = (field: string) => (account: Account) => {
    const body = route.validBody(account, unique())
    delete body[field]
    return JSON.stringify(body)
  }
  const valid = (account: Account) => JSON.stringify(route.validBody(account, unique()))
  const scenarios: Scenario[] = [
    {...base, name: 'malformed JSON', headers: JSON_TYPE, body: '{"email": "a@example.com",', expected: malformed},
    {...base, name: 'a single quote JSON-ish body', headers: JSON_TYPE, body: "{'email': 'a@example.com'}", expected: malformed},
    {...base, name: 'JSON null', headers: JSON_TYPE, body: 'null', expected: malformed},
    {...base, name: 'a JSON string', headers: JSON_TYPE, body: '"hello"', expected: malformed},
    {...base, name: 'a JSON number', headers: JSON_TYPE, body: '42', expected: malformed},
    {...base, name: 'an empty JSON array', headers: JSON_TYPE, body: '[]', expected: invalid},
    {...base, name: 'the valid body inside an array', headers: JSON_TYPE, body: (account) => `[${valid(account)}]`, expected: invalid},
    {...base, name: 'an empty object', headers: JSON_TYPE, body: '{}', expected: invalid},
    {...base, name: 'no body with a JSON content type', headers: JSON_TYPE, expected: invalid},
    {...base, name: 'no body and no content type', expected: invalid},
    {...base, name: 'a whitespace-only body', headers: JSON_TYPE, body: '   \n', expected: malformed},
    {...base, name: 'a text/plain body', headers: {'content-type': 'text/plain'}, body: valid, expected: unsupported},
    ...(route.takesForm ? [] : [{...base, name: 'a form body', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: 'email=a%40example.com&password=x', expected: unsupported}]),
    {...base, name: 'a multipart content type', headers: {'content-type': 'multipart/form-data; boundary=x'}, body: '--x\r\n\r\n--x--', expected: unsupported},
    {...base, name: 'a body without a content type', body: new TextEncoder().encode('{"email":"a@example.com"}'), expected: unsupported},
    // UTF-16 is a charset the body parser decodes; these UTF-8 bytes read as UTF-16 are not JSON.
    {...base, name: 'UTF-8 bytes labelled UTF-16', headers: {'content-type': 'application/json; charset=utf-16'}, body: valid, expected: malformed},
    {...base, name: 'a JSON body in Latin-1', headers: {'content-type': 'application/json; charset=iso-8859-1'}, body: valid, expected: unsupported},
    {...base, name: 'a vendor JSON content type', headers: {'content-type': 'application/vnd.api+json'}, body: valid, expected: unsupported},
    {...base, name: 'an unknown content encoding', headers: {...JSON_TYPE, 'content-encoding': 'x-unknown'}, body: valid, expected: unsupported},
    {...base, name: 'a gzip content encoding over bytes that are not gzip', headers: {...JSON_TYPE, 'content-encoding': 'gzip'}, body: valid, expected: 'no-server-error'},
    {...base, name: 'a body over the limit', headers: JSON_TYPE, body: JSON.stringify({padding: 'x'.repeat(BODY_LIMIT_BYTES + 1)}), expected: {status: 413, code: 'http.payload_too_large'}},
    {...base, name: 'deeply nested JSON', headers: JSON_TYPE, body: `{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}`, expected: invalid},
    {...base, name: 'a __proto__ key carrying the fields', headers: JSON_TYPE, body: (account) => `{"__proto__": ${valid(account)}}`, expected: invalid},
    {...base, name: 'bytes that are not UTF-8', headers: JSON_TYPE, body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), expected: 'no-server-error'},
  ]
  const isNewPassword = (field: string) => route.newPasswords?.includes(field) === true
  for (const field of route.required) {
    scenarios.push({...base, name: `missing ${field}`, headers: JSON_TYPE, body: without(field), expected: invalid})
    scenarios.push({...base, name: `${field}: an empty string`, headers: JSON_TYPE, body: withField(field, ''), expected: field === 'token' ? 'no-server-error' : isNewPassword(field) ? tooWeak : invalid})
  }
  for (const [field, tooLong] of Object.entries(route.strings)) {
    for (const [label, value] of [['a number', 123], ['a boolean', true], ['null', null], ['an object', {$ne: ''}], ['an array', ['a', 'b']]] as const) {
      scenarios.push({...base, name: `${field}: ${label}`, headers: JSON_TYPE, body: withField(field, value), expected: invalid})
    }
    scenarios.push({...base, name: `${field}: ${tooLong} characters`, headers: JSON_TYPE, body: withField(field, 'a'.repeat(tooLong)), expected: isNewPassword(field) ? tooWeak : invalid})
    scenarios.push({...base, name: `${field}: 90 000 characters`, headers: JSON_TYPE, body: withField(field, 'a'.repeat(90_000)), expected: isNewPassword(field) ? tooWeak : invalid})
    // No text may hold NUL (Postgres refuses it): refused up front, the same on both dialects.
    scenarios.push({...base, name: `${field}: a NUL character inside`, headers: JSON_TYPE, body: (account) => {
      const body = route.validBody(account, unique())
      const current = typeof body[field] === 'string' ? (body[field] as string) : 'value'
      return JSON.stringify({...body, [field]: current.includes('@') ? current.replace('@', '\u0000@') : `${current}\u0000x`})
    }, expected: invalid})
  }
  return scenarios
}

const BODYLESS_POSTS: Scenario[] = ['/v1/auth/logout', '/v1/auth/logout-all', '/v1/auth/verify-email/resend'].flatMap((path): Scenario[] => [
  {name: 'malformed JSON', method: 'POST', path, auth: 'token', headers: JSON_TYPE, body: '{"all": tru', expected: malformed},
  {name: 'a text/plain body', method: 'POST', path, auth: 'token', headers: {'content-type': 'text/plain'}, body: 'bye', expected: unsupported},
  {name: 'a body over the limit', method: 'POST', path, auth: 'token', headers: JSON_TYPE, body: JSON.stringify({padding: 'x'.repeat(BODY_LIMIT_BYTES + 1)}), expected: {status: 413, code: 'http.payload_too_large'}},
])

const notFound = {status: 404, code: 'http.not_found'}
const UNKNOWN_ROUTES: Scenario[] = [
  {name: 'an unknown auth route', method: 'GET', path: '/v1/auth/unknown', expected: notFound},
  {name: 'an unknown auth route with a JSON body', method: 'POST', path: '/v1/auth/signup', headers: JSON_TYPE, body: '{"email":"a@example.com"}', expected: notFound},
  {name: 'the auth prefix alone', method: 'GET', path: '/v1/auth', expected: notFound},
  {name: 'a path below me', method: 'GET', path: '/v1/auth/me/extra', auth: 'token', expected: notFound},
  {name: 'a path below a session', method: 'DELETE', path: '/v1/auth/sessions/abc/def', auth: 'token', expected: notFound},
  {name: 'the tokens prefix alone', method: 'POST', path: '/v1/tokens', headers: JSON_TYPE, body: '{}', expected: notFound},
  {name: 'a different version', method: 'POST', path: '/v2/auth/login', headers: JSON_TYPE, body: '{}', expected: notFound},
  {name: 'an encoded NUL in the path', method: 'GET', path: '/v1/auth/me%00', expected: notFound},
  {name: 'an encoded slash in the path', method: 'GET', path: '/v1/auth%2Fme', expected: notFound},
  {name: 'an unknown well-known document', method: 'GET', path: '/.well-known/webfinger', expected: notFound},
  {name: 'a very long unknown path', method: 'GET', path: `/v1/auth/${'x'.repeat(4000)}`, expected: notFound},
]

const notAllowed = {status: 405, code: 'http.method_not_allowed'}
const WRONG_METHODS: Scenario[] = [
  ['GET', '/v1/auth/register'],
  ['PUT', '/v1/auth/register'],
  ['GET', '/v1/auth/login'],
  ['DELETE', '/v1/auth/login'],
  ['GET', '/v1/auth/refresh'],
  ['PATCH', '/v1/auth/switch-org'],
  ['POST', '/v1/auth/me'],
  ['DELETE', '/v1/auth/me'],
  ['PUT', '/v1/auth/change-password'],
  ['POST', '/v1/auth/sessions'],
  ['DELETE', '/v1/auth/sessions'],
  ['GET', '/v1/auth/sessions/abc'],
  ['PUT', '/v1/auth/sessions/abc'],
  ['GET', '/v1/auth/logout'],
  ['DELETE', '/v1/auth/logout-all'],
  ['GET', '/v1/tokens/introspect'],
  ['GET', '/v1/auth/verify-email'],
  ['GET', '/v1/auth/verify-email/resend'],
  ['GET', '/v1/auth/password/forgot'],
  ['PUT', '/v1/auth/password/reset'],
  ['GET', '/v1/auth/email'],
  ['POST', '/.well-known/jwks.json'],
  ['DELETE', '/.well-known/openid-configuration'],
].map(([method, path]) => ({name: `${method} ${path}`, method: method!, path: path!, expected: notAllowed}))

const WEIRD_QUERIES = [
  '?',
  '?%',
  '?a=%E0%A4%A',
  '?a=%00',
  '?a[b][c][d]=1',
  '?__proto__[admin]=true',
  '?constructor[prototype][admin]=true',
  '?a=1&a=2&a=3',
  '?access_token=abc&org=x',
  `?${'a'.repeat(6000)}=1`,
  `?${Array.from({length: 2000}, (_, index) => `k${index}=v`).join('&')}`,
  '?a=%F0%9F%98%80&b=%ZZ',
]

const GET_ROUTES: {path: string; auth?: 'token'}[] = [
  {path: '/v1/auth/me', auth: 'token'},
  {path: '/v1/auth/sessions', auth: 'token'},
  {path: '/.well-known/jwks.json'},
  {path: '/.well-known/openid-configuration'},
]

const DELETE_SESSION_IDS: Scenario[] = [
  {name: 'an id of 101 characters', id: 'a'.repeat(101), expected: invalid},
  {name: 'an id of 4 000 characters', id: 'a'.repeat(4000), expected: invalid},
  {name: 'an id of 12 000 characters', id: 'a'.repeat(12_000), expected: invalid},
  // Past Node's 16 KiB header limit node:http refuses the request before express; the server's clientError handler still answers JSON.
  {name: 'an id of 20 000 characters (past Node’s 16 KiB header limit)', id: 'a'.repeat(20_000), expected: {status: 431, code: 'http.headers_too_large'}},
  {name: 'an id that is not a UUID', id: 'not-a-uuid', expected: {status: 404, code: 'session.not_found'}},
  {name: 'an id with SQL in it', id: encodeURIComponent("x' OR '1'='1"), expected: {status: 404, code: 'session.not_found'}},
  {name: 'an id with non-ASCII characters', id: encodeURIComponent('séssion-😀'), expected: {status: 404, code: 'session.not_found'}},
  {name: 'an id with an encoded slash', id: '..%2F..%2Fetc%2Fpasswd', expected: {status: 404, code: 'session.not_found'}},
  {name: 'an id of spaces', id: '%20%20%20', expected: {status: 404, code: 'session.not_found'}},
  {name: 'an id the router cannot decode', id: '%E0%A4%A', expected: {status: 400, code: 'http.bad_request'}},
  {name: 'an id with an encoded NUL', id: 'abc%00def', expected: invalid},
].map(({name, id, expected}) => ({name, method: 'DELETE', path: `/v1/auth/sessions/${id}`, auth: 'token' as const, expected}))

describeEachDialect('auth bad input', (dialect) => {
  let daemon: TestDaemon
  let accountCounter = 0

  async function newAccount(): Promise<Account> {
    const email = `bad-input-${++accountCounter}-${dialect}@example.com`
    const response = await request(`${daemon.url}/v1/auth/register`, {method: 'POST', headers: JSON_TYPE, body: JSON.stringify({email, password: PASSWORD})})
    expect(response.status).toBe(201)
    const {core, clock} = daemon.testCore
    const verifyToken = tokenFromMail(await latestMail(core, email, 'verify_email'))
    const reset = await insertOneTimeToken(core.database.db, {clock, newId: () => crypto.randomUUID()}, {purpose: 'password_reset', userId: response.json.user.id, email, ttlSeconds: 3600})
    return {email, orgSlug: response.json.org.slug, accessToken: response.json.access_token, refreshToken: response.json.refresh_token, sessionId: response.json.session_id, verifyToken, resetToken: reset.token}
  }

  async function send(scenario: Scenario, account: Account) {
    const authorization: Record<string, string> = scenario.auth === 'token' ? {authorization: `Bearer ${account.accessToken}`} : scenario.auth === 'introspection' ? {authorization: `Bearer ${INTROSPECTION_SECRET}`} : {}
    const path = typeof scenario.path === 'function' ? scenario.path(account) : scenario.path
    const body = typeof scenario.body === 'function' ? scenario.body(account) : scenario.body
    return request(`${daemon.url}${path}`, {method: scenario.method, headers: {...authorization, ...scenario.headers}, body})
  }

  function expectCleanResponse(response: Awaited<ReturnType<typeof request>>, expected: Expected) {
    expect(response.status).toBeLessThan(500)
    expect(response.text).not.toMatch(STACK_FRAME)
    expect(response.text).not.toMatch(/node_modules|\.ts:\d|\.js:\d/)
    if (expected !== 'no-server-error') expect({status: response.status, code: response.json?.error?.code}).toEqual(expected)
    if (response.status >= 400) {
      expect(response.headers.get('content-type') ?? '(no content type)').toMatch(/^application\/json/)
      expect(Object.keys(response.json).sort()).toEqual(['error', 'request_id'])
      expect(typeof response.json.error.code).toBe('string')
      expect(response.json.error.code).toMatch(/^[a-z_]+\.[a-z_]+$/)
      expect(response.json.request_id).toBe(response.headers.get('x-request-id'))
    }
  }

  beforeAll(async () => {
    daemon = await startTestDaemon(dialect, {settings: {introspectionSecret: INTROSPECTION_SECRET}})
    // The introspection route reads the core's config, which the harness builds on its own.
    daemon.testCore.core.config.introspectionSecret = INTROSPECTION_SECRET
  })
  afterAll(async () => {
    await daemon?.close()
  })

  describe.each(POST_ROUTES)('POST $path', (route) => {
    it(`accepts its valid body (the control for the scenarios below) with ${route.successStatus}`, async () => {
      const account = await newAccount()
      const response = await send({name: 'valid', method: 'POST', path: route.path, auth: route.auth, headers: JSON_TYPE, body: JSON.stringify(route.validBody(account, `control-${dialect}`)), expected: 'no-server-error'}, account)
      expect(response.status).toBe(route.successStatus)
    })

    describe.each(scenariosOf(route))('$name', (scenario) => {
      it('answers a clean 4xx JSON error', async () => {
        const account = await newAccount()
        expectCleanResponse(await send(scenario, account), scenario.expected)
      })
    })
  })

  describe.each(BODYLESS_POSTS)('POST $path with $name', (scenario) => {
    it('answers a clean 4xx JSON error and does not log out', async () => {
      const account = await newAccount()
      expectCleanResponse(await send(scenario, account), scenario.expected)
      expect((await request(`${daemon.url}/v1/auth/me`, {headers: {authorization: `Bearer ${account.accessToken}`}})).status).toBe(200)
    })
  })

  describe.each(UNKNOWN_ROUTES)('unknown route: $name', (scenario) => {
    it('answers 404 http.not_found as JSON', async () => {
      expectCleanResponse(await send(scenario, await newAccount()), scenario.expected)
    })
  })

  describe.each(WRONG_METHODS)('wrong method: $name', (scenario) => {
    it('answers 405 http.method_not_allowed with Allow', async () => {
      const response = await send(scenario, await newAccount())
      expectCleanResponse(response, scenario.expected)
      expect(response.headers.get('allow')).toBeTruthy()
      expect(response.headers.get('allow')).not.toContain(scenario.method)
    })
  })

  describe.each(GET_ROUTES.flatMap((route) => WEIRD_QUERIES.map((query) => ({...route, query, label: query.length > 40 ? `${query.slice(0, 40)}… (${query.length} chars)` : query}))))('GET $path$label', ({path, auth, query}) => {
    it('ignores the query and answers 200', async () => {
      const account = await newAccount()
      const response = await request(`${daemon.url}${path}${query}`, {headers: auth ? {authorization: `Bearer ${account.accessToken}`} : {}})
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    })
  })

  describe.each(DELETE_SESSION_IDS)('DELETE /v1/auth/sessions/:id with $name', (scenario) => {
    it('answers a clean 4xx JSON error and revokes nothing', async () => {
      const account = await newAccount()
      expectCleanResponse(await send(scenario, account), scenario.expected)
      expect((await request(`${daemon.url}/v1/auth/me`, {headers: {authorization: `Bearer ${account.accessToken}`}})).status).toBe(200)
    })
  })
})
