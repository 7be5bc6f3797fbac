import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

const ALLOWED = 'https://app.example.com'
const OTHER = 'https://evil.example.net'

function preflight(url: string, origin: string) {
  return request(url, {method: 'OPTIONS', headers: {origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type'}})
}

describe('daemon CORS', () => {
  describe('by default (no allowed origins)', () => {
    let daemon: TestDaemon
    beforeAll(async () => {
      daemon = await startTestDaemon('sqlite')
    })
    afterAll(async () => {
      await daemon?.close()
    })

    it('sends no CORS headers, even to a browser origin', async () => {
      const response = await request(`${daemon.url}/health`, {headers: {origin: ALLOWED}})
      expect(response.status).toBe(200)
      expect([...response.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([])
    })

    it('answers a preflight with 204 and no CORS headers, so the browser refuses', async () => {
      const response = await preflight(`${daemon.url}/health`, ALLOWED)
      expect(response.status).toBe(204)
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
    })
  })

  describe('with an allow-list', () => {
    let daemon: TestDaemon
    beforeAll(async () => {
      daemon = await startTestDaemon('sqlite', {settings: {corsOrigins: `${ALLOWED}, https://admin.example.com`}})
    })
    afterAll(async () => {
      await daemon?.close()
    })

    it('echoes an allowed origin, varies on Origin, and exposes the request id', async () => {
      const response = await request(`${daemon.url}/health`, {headers: {origin: ALLOWED}})
      expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED)
      expect(response.headers.get('vary')).toMatch(/Origin/)
      expect(response.headers.get('access-control-expose-headers')).toMatch(/X-Request-Id/)
      expect(response.headers.get('access-control-allow-credentials')).toBeNull()
    })

    it('sends no CORS headers to an origin not on the list', async () => {
      const response = await request(`${daemon.url}/health`, {headers: {origin: OTHER}})
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
      expect(response.headers.get('vary')).toMatch(/Origin/)
    })

    it('answers a preflight from an allowed origin with the methods and headers it may use', async () => {
      const response = await preflight(`${daemon.url}/v1/auth/login`, ALLOWED)
      expect(response.status).toBe(204)
      expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED)
      expect(response.headers.get('access-control-allow-methods')).toContain('POST')
      expect(response.headers.get('access-control-allow-headers')).toMatch(/Authorization/)
      expect(response.headers.get('access-control-allow-headers')).toMatch(/Content-Type/)
      expect(Number(response.headers.get('access-control-max-age'))).toBeGreaterThan(0)
    })

    it('answers a preflight from another origin without CORS headers', async () => {
      const response = await preflight(`${daemon.url}/v1/auth/login`, OTHER)
      expect(response.status).toBe(204)
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
      expect(response.headers.get('access-control-allow-methods')).toBeNull()
    })

    it('does not treat a prefix or a different scheme of an allowed origin as allowed', async () => {
      for (const origin of ['https://app.example.com.evil.net', 'http://app.example.com', 'null']) {
        const response = await request(`${daemon.url}/health`, {headers: {origin}})
        expect(response.headers.get('access-control-allow-origin'), origin).toBeNull()
      }
    })
  })
})
