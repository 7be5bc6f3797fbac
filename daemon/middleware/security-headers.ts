import type {RequestHandler} from 'express'
import helmet from 'helmet'

/**
 * helmet's defaults (nosniff, frame denial, no referrer leaks) with a stricter
 * Content-Security-Policy: everything from this origin only. helmet would also allow styles
 * and fonts from any https: host; the /docs page (Swagger UI) loads its assets from the daemon,
 * so no CDN is needed. Scripts: 'self' only, no inline script (the page's init script is a
 * file). Not upgrade-insecure-requests: the daemon itself serves plain HTTP (TLS, if any, ends
 * at a proxy), and its docs page calls its own http:// URLs.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      directives: {
        upgradeInsecureRequests: null,
        styleSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
      },
    },
  })
}
