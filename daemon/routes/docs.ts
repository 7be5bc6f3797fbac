import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {renderDocsPage} from '../openapi/docs-page.js'
import type {RouteRegistry} from '../openapi/route-registry.js'

/** The OpenAPI document of every registered route, and a static page listing them. */
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
      summary: 'A page listing every operation',
      tags: ['system'],
      isHidden: true,
      responses: {200: {description: 'HTML', contentType: 'text/html'}},
      handle: () => ({body: renderDocsPage(registry.document()), contentType: 'text/html; charset=utf-8'}),
    }),
  ]
}
