import type {RequestHandler} from 'express'

export interface CorsOptions {
  /** Exact origins (`https://app.example.com`); `*` allows any. Empty: no CORS headers at all. */
  allowedOrigins: readonly string[]
  allowedMethods?: readonly string[]
  allowedHeaders?: readonly string[]
  exposedHeaders?: readonly string[]
  maxAgeSeconds?: number
}

/**
 * CORS by allow-list. An allowed origin gets its own origin echoed (no credentials: the API
 * takes bearer tokens, not cookies); any other origin gets no CORS headers, so browsers
 * refuse. Preflight requests are answered here with 204, allowed or not.
 */
export function cors({
  allowedOrigins,
  allowedMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowedHeaders = ['Authorization', 'Content-Type', 'X-Request-Id', 'X-Tenant-Slug', 'X-Tenant-ID'],
  exposedHeaders = ['X-Request-Id', 'WWW-Authenticate'],
  maxAgeSeconds = 600,
}: CorsOptions): RequestHandler {
  const isAnyOrigin = allowedOrigins.includes('*')
  const origins = new Set(allowedOrigins)
  return (request, response, next) => {
    const origin = request.get('Origin')
    if (origins.size > 0) response.vary('Origin')
    const isAllowed = origin !== undefined && (isAnyOrigin || origins.has(origin))
    if (isAllowed) {
      response.setHeader('Access-Control-Allow-Origin', isAnyOrigin ? '*' : origin)
      response.setHeader('Access-Control-Expose-Headers', exposedHeaders.join(', '))
    }
    const isPreflight = request.method === 'OPTIONS' && origin !== undefined && request.get('Access-Control-Request-Method') !== undefined
    if (!isPreflight) return next()
    if (isAllowed) {
      response.setHeader('Access-Control-Allow-Methods', allowedMethods.join(', '))
      response.setHeader('Access-Control-Allow-Headers', allowedHeaders.join(', '))
      response.setHeader('Access-Control-Max-Age', String(maxAgeSeconds))
    }
    response.status(204).end()
  }
}
