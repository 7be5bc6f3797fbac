import {afterAll, beforeAll, expect, it} from 'vitest'
import {describeEachDialect} from '../helpers/test-database.js'
import {exerciseRoutes, request, startTestDaemon, type TestDaemon} from './http-harness.js'

describeEachDialect('daemon system routes', (dialect) => {
  let daemon: TestDaemon

  beforeAll(async () => {
    daemon = await startTestDaemon(dialect, {routes: exerciseRoutes()})
  })
  afterAll(async () => {
    await daemon?.close()
  })

  it('GET /health answers {"status":"ok"} as JSON', async () => {
    const response = await request(`${daemon.url}/health`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(response.json).toEqual({status: 'ok'})
  })

  it('HEAD /health answers 200 without a body', async () => {
    const response = await request(`${daemon.url}/health`, {method: 'HEAD'})
    expect(response.status).toBe(200)
    expect(response.text).toBe('')
  })

  it('GET /ready runs a query on the database and answers ok', async () => {
    const response = await request(`${daemon.url}/ready`)
    expect(response.status).toBe(200)
    expect(response.json).toEqual({status: 'ok'})
  })

  it('sets security headers and hides the framework', async () => {
    const response = await request(`${daemon.url}/health`)
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(response.headers.get('x-powered-by')).toBeNull()
  })

  it('GET /metrics exposes request counts and latency by route pattern, the identity gauges and event-loop lag', async () => {
    await request(`${daemon.url}/test/items/12345`)
    await request(`${daemon.url}/test/items/67890?limit=3`)
    await request(`${daemon.url}/no/such/route`)
    daemon.running.metrics.recordLogin('invalid_credentials')
    // Active sessions are counted in the database at scrape time: register two accounts.
    for (const email of ['metrics-1@example.com', 'metrics-2@example.com']) {
      const registered = await request(`${daemon.url}/v1/auth/register`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({email, password: 'correct horse battery'})})
      expect(registered.status).toBe(201)
    }
    const response = await request(`${daemon.url}/metrics`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = response.text
    expect(text).toMatch(/^saasctl_http_requests_total\{method="GET",route="\/test\/items\/:id",status="200"\} 2$/m)
    expect(text).toMatch(/^saasctl_http_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m)
    expect(text).not.toContain('12345')
    expect(text).toMatch(/^saasctl_http_request_duration_seconds_count\{method="GET",route="\/test\/items\/:id",status="200"\} 2$/m)
    expect(text).toMatch(/^saasctl_login_total\{outcome="invalid_credentials"\} 1$/m)
    expect(text).toMatch(/^saasctl_active_sessions 2$/m)
    expect(text).toMatch(/^saasctl_revocation_cache_entries \d+$/m)
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m)
  })

  it('keeps metrics per app: a second app in the same process starts from zero', async () => {
    const other = await startTestDaemon(dialect)
    try {
      await request(`${other.url}/health`)
      const text = (await request(`${other.url}/metrics`)).text
      expect(text).toMatch(/^saasctl_http_requests_total\{method="GET",route="\/health",status="200"\} 1$/m)
      expect(text).not.toContain('/test/items/:id')
    } finally {
      await other.close()
    }
  })

  it('GET /openapi.json is an OpenAPI 3.1 document generated from the route schemas', async () => {
    const response = await request(`${daemon.url}/openapi.json`)
    expect(response.status).toBe(200)
    const document = response.json
    expect(document.openapi).toBe('3.1.0')
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/health', '/ready', '/metrics', '/openapi.json', '/test/items/{id}']))
    expect(document.paths['/docs']).toBeUndefined()
    const create = document.paths['/test/items/{id}'].post
    expect(create.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      properties: {name: {type: 'string', minLength: 1}, count: {type: 'integer', minimum: 0}, display_name: {type: 'string'}},
      required: ['name'],
    })
    expect(create.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({name: 'id', in: 'path', required: true, schema: expect.objectContaining({type: 'string'})}),
        expect.objectContaining({name: 'limit', in: 'query', required: false}),
      ]),
    )
    expect(create.responses['201'].content['application/json'].schema.properties.item.properties).toHaveProperty('display_name')
    expect(create.responses['422'].content['application/json'].schema).toEqual({$ref: '#/components/schemas/Error'})
    expect(document.paths['/test/whoami'].get.security).toEqual([{access_token: []}])
    expect(document.components.securitySchemes.access_token).toMatchObject({type: 'http', scheme: 'bearer'})
    expect(document.components.schemas.Error.required).toEqual(['error', 'request_id'])
  })

  it('GET /docs is the interactive reference on /openapi.json, its scripts from the daemon, none inline (see docs.test.ts)', async () => {
    const response = await request(`${daemon.url}/docs`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    expect(response.text).toContain('data-openapi-url="/openapi.json"')
    expect(response.text).toContain('href="/openapi.json"')
    expect(response.text).not.toMatch(/<script(?![^>]*\ssrc="\/docs\/assets\/)/)
  })

  it('GET /ready answers 503 db.unreachable once the database is gone, while /health stays ok', async () => {
    const other = await startTestDaemon(dialect)
    try {
      await other.testCore.core.database.close()
      const ready = await request(`${other.url}/ready`)
      expect(ready.status).toBe(503)
      expect(ready.json.error.code).toBe('db.unreachable')
      expect(ready.json.request_id).toBe(ready.headers.get('x-request-id'))
      expect((await request(`${other.url}/health`)).status).toBe(200)
    } finally {
      await other.close()
    }
  })
})
