import type {RequestHandler} from 'express'
import helmet from 'helmet'

/**
 * helmet's defaults: a strict Content-Security-Policy (the /docs page is static HTML, no
 * scripts), nosniff, frame denial, no X-Powered-By, no referrer leaks. Except
 * upgrade-insecure-requests: the daemon itself serves plain HTTP (TLS, if any, ends at a
 * proxy), and its docs page links to its own http:// URLs.
 */
export function securityHeaders(): RequestHandler {
  return helmet({contentSecurityPolicy: {directives: {upgradeInsecureRequests: null}}})
}
