import {readFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import path from 'node:path'

/** Where the docs page loads its assets from: the daemon itself, never a CDN. */
export const DOCS_ASSETS_PATH = '/docs/assets'

export interface DocsAsset {
  /** The file name under DOCS_ASSETS_PATH. */
  name: string
  contentType: string
  /** The text served; read once, on first request. */
  load(): Promise<string>
}

/**
 * Starts Swagger UI on the daemon's OpenAPI document. It is a file of its own, not an inline
 * script, so the Content-Security-Policy keeps `script-src 'self'`. The document URL comes from
 * the page (a data attribute), never from the query string (queryConfigEnabled stays off), so a
 * link cannot point the page at someone else's document. persistAuthorization keeps the token
 * given in Authorize (access token or sk_ API key) across reloads, in this browser only.
 */
const INIT_SCRIPT = `'use strict'
;(function () {
  var root = document.getElementById('swagger-ui')
  window.ui = SwaggerUIBundle({
    url: root.getAttribute('data-openapi-url'),
    domNode: root,
    deepLinking: true,
    persistAuthorization: true,
    displayRequestDuration: true,
    filter: true,
    // No badge fetched from validator.swagger.io: the page talks to this daemon only.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  })
})()
`

const swaggerUiFolder = (): string => path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist'))

/** Reads a file of swagger-ui-dist once; concurrent first requests share the read. */
function libraryFile(fileName: string): () => Promise<string> {
  let text: Promise<string> | null = null
  return () => {
    text ??= readFile(path.join(swaggerUiFolder(), fileName), 'utf8').catch((error: unknown) => {
      text = null
      throw error
    })
    return text
  }
}

/** Every asset the page loads: Swagger UI's stylesheet and bundle, and our init script. */
export const DOCS_ASSETS: readonly DocsAsset[] = [
  {name: 'swagger-ui.css', contentType: 'text/css; charset=utf-8', load: libraryFile('swagger-ui.css')},
  {name: 'swagger-ui-bundle.js', contentType: 'text/javascript; charset=utf-8', load: libraryFile('swagger-ui-bundle.js')},
  {name: 'docs-init.js', contentType: 'text/javascript; charset=utf-8', load: async () => INIT_SCRIPT},
]

/**
 * The interactive API reference: Swagger UI on the OpenAPI document, where a developer can
 * Authorize with a Bearer token and try each route. Only same-origin assets, no inline script
 * or style, so the strict Content-Security-Policy holds.
 */
export function renderDocsPage(document: Record<string, unknown>, documentUrl = '/openapi.json'): string {
  const info = (document.info ?? {}) as {title?: string; version?: string}
  const title = `${info.title ?? 'API'} ${info.version ?? ''}`.trim()
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} API reference</title>
<link rel="stylesheet" href="${DOCS_ASSETS_PATH}/swagger-ui.css">
<link rel="icon" href="data:,">
</head>
<body>
<div id="swagger-ui" data-openapi-url="${escapeHtml(documentUrl)}"></div>
<noscript><p>This API reference needs JavaScript. The OpenAPI 3.1 document is at <a href="${escapeHtml(documentUrl)}">${escapeHtml(documentUrl)}</a>.</p></noscript>
<script src="${DOCS_ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="${DOCS_ASSETS_PATH}/docs-init.js"></script>
</body>
</html>
`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}
