import {afterAll, beforeAll, expect, it} from 'vitest'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describeEachDialect('daemon request ids', (dialect) => {
  let daemon: TestDaemon

  beforeAll(async () => {
    daemon = await startTestDaemon(dialect)
  })
  afterAll(async () => {
    await daemon?.close()
  })

  it.each([
    ['a UUID', '0b8f1c1e-2c55-4a4e-9f53-7f2b0a9b1c3d'],
    ['letters, digits, dot, underscore and dash', 'trace.A_1-b'],
    ['128 characters', 'a'.repeat(128)],
  ])('keeps a sane incoming X-Request-Id (%s) and echoes it', async (_name, incoming) => {
    const response = await request(`${daemon.url}/health`, {headers: {'x-request-id': incoming}})
    expect(response.headers.get('x-request-id')).toBe(incoming)
  })

  it('generates a UUID when none comes in', async () => {
    const first = await request(`${daemon.url}/health`)
    const second = await request(`${daemon.url}/health`)
    expect(first.headers.get('x-request-id')).toMatch(UUID)
    expect(second.headers.get('x-request-id')).toMatch(UUID)
    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'))
  })

  it.each([
    ['129 characters', 'a'.repeat(129)],
    ['spaces', 'two words'],
    ['markup', '<script>alert(1)</script>'],
    ['a header-injection attempt', 'abc%0d%0aSet-Cookie:x=1'],
    ['non-ASCII', 'caf\u00e9'],
  ])('replaces an incoming X-Request-Id with %s by a fresh UUID', async (_name, incoming) => {
    const response = await request(`${daemon.url}/no/such/route`, {headers: {'x-request-id': incoming}})
    const echoed = response.headers.get('x-request-id')
    expect(echoed).toMatch(UUID)
    expect(response.json.request_id).toBe(echoed)
  })

  it('uses the same id in the error body, the response header and the access log', async () => {
    const response = await request(`${daemon.url}/nothing`, {headers: {'x-request-id': 'correlate-me-42'}})
    expect(response.json.request_id).toBe('correlate-me-42')
    expect(daemon.logs().some((line) => line.msg === 'request' && line.request_id === 'correlate-me-42' && line.status === 404)).toBe(true)
  })
})
