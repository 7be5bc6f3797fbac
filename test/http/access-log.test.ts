import {afterAll, beforeAll, expect, it} from 'vitest'
import {createLogger} from '../../daemon/logger.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {exerciseRoutes, request, startTestDaemon, type TestDaemon} from './http-harness.js'

const SECRET_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.c2VjcmV0LXRva2VuLXZhbHVl.U0lHTkFUVVJFLVNFQ1JFVA'
const SECRET_PASSWORD = 'hunter2-password-in-body'
const SECRET_QUERY = 'query-secret-value-123'

describeEachDialect('daemon access logs', (dialect) => {
  let daemon: TestDaemon

  beforeAll(async () => {
    daemon = await startTestDaemon(dialect, {routes: exerciseRoutes()})
    const authorization = {authorization: `Bearer ${SECRET_TOKEN}`}
    await request(`${daemon.url}/health`, {headers: {...authorization, 'x-request-id': 'log-health'}})
    await request(`${daemon.url}/test/whoami`, {headers: {...authorization, 'x-request-id': 'log-whoami'}})
    await request(`${daemon.url}/test/crash?token=${SECRET_QUERY}`, {headers: {...authorization, 'x-request-id': 'log-crash'}})
    await request(`${daemon.url}/test/items/77?limit=2&access_token=${SECRET_QUERY}`, {
      method: 'POST',
      headers: {...authorization, 'content-type': 'application/json', 'x-request-id': 'log-items'},
      body: JSON.stringify({name: SECRET_PASSWORD, password: SECRET_PASSWORD}),
    })
    await request(`${daemon.url}/test/items/78`, {method: 'POST', headers: {...authorization, 'content-type': 'application/json', 'x-request-id': 'log-malformed'}, body: `{"password": "${SECRET_PASSWORD}"`})
  })
  afterAll(async () => {
    await daemon?.close()
  })

  function requestLine(requestId: string) {
    return daemon.logs().find((line) => line.msg === 'request' && line.request_id === requestId)
  }

  it('writes one JSON line per request with method, route pattern, status, duration and request id', () => {
    const line = requestLine('log-items')
    expect(line).toMatchObject({level: 'info', method: 'POST', route: '/test/items/:id', status: 201, request_id: 'log-items'})
    expect(typeof line!.duration_ms).toBe('number')
    expect(line!.duration_ms as number).toBeGreaterThanOrEqual(0)
    expect(daemon.logs().filter((entry) => entry.msg === 'request' && entry.request_id === 'log-items')).toHaveLength(1)
  })

  it('logs failures with their status: 401, 400, and 500 at error level', () => {
    expect(requestLine('log-whoami')).toMatchObject({status: 401, route: '/test/whoami'})
    expect(requestLine('log-malformed')).toMatchObject({status: 400, route: '/test/items/:id'})
    expect(requestLine('log-crash')).toMatchObject({status: 500, level: 'error'})
  })

  it('never writes an Authorization header value, a body or a query string', () => {
    const text = daemon.rawLogs()
    expect(text).toContain('log-crash')
    expect(text).not.toContain(SECRET_TOKEN)
    expect(text).not.toContain(SECRET_TOKEN.split('.')[1])
    expect(text).not.toContain(SECRET_PASSWORD)
    expect(text).not.toContain(SECRET_QUERY)
    expect(text).not.toMatch(/"authorization"/i)
    expect(text).not.toContain('/test/items/77')
  })

  it('censors secret-named fields if a handler ever logs them', () => {
    const chunks: string[] = []
    const logger = createLogger({destination: {write: (chunk: string) => void chunks.push(chunk)}})
    logger.child({request_id: 'x'}).info({password: SECRET_PASSWORD, body: {refresh_token: SECRET_TOKEN}, headers: {authorization: `Bearer ${SECRET_TOKEN}`}}, 'oops')
    const line = JSON.parse(chunks.join(''))
    expect(line).toMatchObject({password: '[redacted]', body: {refresh_token: '[redacted]'}, headers: {authorization: '[redacted]'}})
    expect(chunks.join('')).not.toContain(SECRET_TOKEN)
  })
})
