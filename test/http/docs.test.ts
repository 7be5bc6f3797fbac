import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// /docs is Swagger UI served by the daemon itself: same-origin assets, no inline script, and a
// Content-Security-Policy that names no other host. (The page does not depend on the database.)

const swaggerUiFolder = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist'))

/** The CSP header as {directive: sources}. */
function parseCsp(header: string | null): Record<string, string[]> {
  expect(header).toBeTruthy()
  return Object.fromEntries(
    header!
      .split(';')
      .map((directive) => directive.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...sources]) => [name!, sources]),
  )
}

describe('the API reference at /docs', () => {
  let daemon: TestDaemon
  let page: string

  beforeAll(async () => {
    daemon = await startTestDaemon('sqlite')
    page = (await request(`${daemon.url}/docs`)).text
  })
  afterAll(async () => {
    await daemon?.close()
  })

  it('is an HTML page loading Swagger UI and our init script from the daemon, nothing inline', async () => {
    const response = await request(`${daemon.url}/docs`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    const references = [...page.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((match) => match[1]!)
    expect(references).toEqual(expect.arrayContaining(['/docs/assets/swagger-ui.css', '/docs/assets/swagger-ui-bundle.js', '/docs/assets/docs-init.js', '/openapi.json']))
    // Same origin only: a path, never a scheme or a protocol-relative //host (data: is the empty favicon).
    for (const reference of references) expect(reference, reference).toMatch(/^(\/(?!\/)|data:,$)/)
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts).toHaveLength(2)
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\ssrc="\/docs\/assets\//)
      expect(body).toBe('')
    }
    expect(page).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i)
    expect(page).toContain('data-openapi-url="/openapi.json"')
  })

  it('serves each asset with its content type: the library files as shipped, and our init script', async () => {
    for (const [file, type] of [
      ['swagger-ui.css', /^text\/css/],
      ['swagger-ui-bundle.js', /^text\/javascript/],
      ['docs-init.js', /^text\/javascript/],
    ] as const) {
      const response = await request(`${daemon.url}/docs/assets/${file}`)
      expect(response.status, file).toBe(200)
      expect(response.headers.get('content-type'), file).toMatch(type)
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      if (file !== 'docs-init.js') expect(response.text, file).toBe(readFileSync(path.join(swaggerUiFolder, file), 'utf8'))
    }
    const init = (await request(`${daemon.url}/docs/assets/docs-init.js`)).text
    expect(init).toContain('SwaggerUIBundle(')
    expect(init).toContain("getAttribute('data-openapi-url')")
    expect(init).toMatch(/persistAuthorization: true/)
    expect(init).toMatch(/validatorUrl: null/)
    expect(init).not.toMatch(/https?:\/\//)
  })

  it('serves no other file: only the listed assets exist', async () => {
    for (const route of ['/docs/assets/index.html', '/docs/assets/swagger-initializer.js', '/docs/assets/%2e%2e%2fpackage.json', '/docs/assets/']) {
      expect((await request(`${daemon.url}${route}`)).status, route).toBe(404)
    }
  })

  it('keeps a strict Content-Security-Policy: this origin only, script-src without unsafe-inline or eval', async () => {
    for (const route of ['/docs', '/docs/assets/docs-init.js', '/openapi.json']) {
      const response = await request(`${daemon.url}${route}`)
      const csp = parseCsp(response.headers.get('content-security-policy'))
      expect(csp['script-src'], route).toEqual(["'self'"])
      expect(csp['script-src-attr'], route).toEqual(["'none'"])
      expect(csp['default-src'], route).toEqual(["'self'"])
      expect(csp['style-src'], route).toEqual(["'self'"])
      expect(csp['object-src'], route).toEqual(["'none'"])
      // No CDN, no scheme-wide source: every source is a keyword or data: (images, fonts).
      for (const [directive, sources] of Object.entries(csp)) {
        for (const source of sources) expect(`${directive} ${source}`).toMatch(/ ('self'|'none'|data:)$/)
      }
      expect(response.headers.get('x-frame-options'), route).toBe('SAMEORIGIN')
    }
  })

  it('offers both Bearer schemes to Authorize: an access token or an sk_ API key', async () => {
    const document = (await request(`${daemon.url}/openapi.json`)).json
    expect(document.components.securitySchemes).toMatchObject({
      access_token: {type: 'http', scheme: 'bearer'},
      api_key: {type: 'http', scheme: 'bearer'},
    })
    expect(document.paths['/docs']).toBeUndefined()
    expect(Object.keys(document.paths).filter((route) => route.startsWith('/docs'))).toEqual([])
  })
})
