import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {DOCS_ASSETS, DOCS_ASSETS_PATH, renderDocsPage} from '../openapi/docs-page.js'
import type {RouteRegistry} from '../openapi/route-registry.js'

/** The library assets change only with the daemon's version; a day of caching spares reloads. */
const ASSET_CACHE_CONTROL = 'public, max-age=86400'

/** The OpenAPI document of every registered route, and the interactive reference (Swagger UI) on it. */
export function docsRoutes({registry}: {registry: RouteRegistry}): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/openapi.json',
      summary: 'This OpenAPI 3.1 document',
      tags: ['system'],
      responses: {200: {description: 'The document'}},
      handle: () => ({body: registry.document(), rawJson: true}),
    }),
    defineRoute({
      method: 'get',
      path: '/docs',
      summary: 'The interactive API reference',
      tags: ['system'],
      isHidden: true,
      responses: {200: {description: 'HTML', contentType: 'text/html'}},
      handle: () => ({body: renderDocsPage(registry.document()), contentType: 'text/html; charset=utf-8'}),
    }),
    // One fixed path per file: nothing from the request reaches the file system.
    ...DOCS_ASSETS.map((asset) =>
      defineRoute({
        method: 'get',
        path: `${DOCS_ASSETS_PATH}/${asset.name}`,
        summary: `An asset of the API reference (${asset.name})`,
        tags: ['system'],
        isHidden: true,
        responses: {200: {description: asset.name, contentType: asset.contentType}},
        handle: async () => ({body: await asset.load(), contentType: asset.contentType, headers: {'cache-control': ASSET_CACHE_CONTROL}}),
      }),
    ),
  ]
}
