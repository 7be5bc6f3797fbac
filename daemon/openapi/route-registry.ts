import type {Router} from 'express'
import {mountRoutes, type MountOptions} from './mount-routes.js'
import {buildOpenApiDocument, type OpenApiInfo} from './openapi-document.js'
import type {AnyRoute} from './route.js'

export type RouteRegistry = ReturnType<typeof createRouteRegistry>

/**
 * Every route of the daemon, declared once (see defineRoute): mounted with validation, and
 * documented in the OpenAPI document from the same declarations.
 */
export function createRouteRegistry(info: OpenApiInfo) {
  const routes: AnyRoute[] = []
  let document: Record<string, unknown> | null = null
  return {
    /** Adds routes; a method and path declared twice is a programming error. */
    add(...added: AnyRoute[]): void {
      for (const route of added) {
        if (routes.some((known) => known.method === route.method && known.path === route.path)) {
          throw new Error(`Route declared twice: ${route.method.toUpperCase()} ${route.path}`)
        }
        routes.push(route)
      }
      document = null
    },
    routes(): readonly AnyRoute[] {
      return routes
    },
    mount(router: Router, options: MountOptions): void {
      mountRoutes(router, routes, options)
    },
    /** The OpenAPI 3.1 document, built once per set of routes. */
    document(): Record<string, unknown> {
      document ??= buildOpenApiDocument(routes, info)
      return document
    },
  }
}
