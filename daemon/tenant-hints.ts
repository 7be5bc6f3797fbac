import type {Request} from 'express'
import type {TenantHints} from '../src/identity/session-service.js'

/**
 * What a request says about its organization besides the body: the tenant headers and the
 * host name (Host, or X-Forwarded-Host when the proxy is trusted; without the port). The
 * core decides what they name (src/tenancy/tenant-resolution.ts).
 */
export function tenantHintsOf(request: Request): TenantHints {
  return {headers: {'x-tenant-slug': request.get('X-Tenant-Slug'), 'x-tenant-id': request.get('X-Tenant-ID')}, host: request.hostname ?? null}
}
