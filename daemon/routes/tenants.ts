import type {Request} from 'express'
import {z} from 'zod'
import {API_KEY_PREFIX} from '../../src/access/bearer-authenticator.js'
import type {Actor, RequestOrigin} from '../../src/access/principal.js'
import type {Core} from '../../src/core.js'
import {DomainError} from '../../src/errors/domain-error.js'
import {timingSafeEqualStrings} from '../../src/security/secure-token.js'
import {readBearerToken} from '../bearer-token.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'

const hostTenantResponse = z.object({
  org: z.object({id: z.string(), slug: z.string(), name: z.string(), tier: z.string()}),
})

/** Which organization a host belongs to: what an app's gateway asks before it routes a request. */
export function tenantRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/tenants/resolve',
      // Gateways ask before routing each request, with the introspection secret or a platform key: not limited per IP.
      rateLimit: 'none',
      summary: 'The organization a host belongs to',
      description:
        'A host names an organization by its custom domain (exact) or as a subdomain of the configured base_domain (`acme.<base_domain>` → acme). Authenticated like introspection: `Authorization: Bearer <introspection_secret>`, or a platform API key (`sk_…`; an organization’s key gets 403 platform.required). 404 org.not_found when the host names no live organization.',
      tags: ['tenants'],
      query: z.object({host: z.string().trim().min(1, 'must not be empty').max(300).describe('A host name, with or without a port')}),
      responses: {200: {description: 'The organization', schema: hostTenantResponse}},
      async handle({query, request, client}) {
        const actor = await gatewayActor(core, request, client)
        return {body: await core.tenants.resolveHost(actor, {host: query.host})}
      },
    }),
  ]
}

/**
 * The caller of a gateway route: a platform API key (checked by the core, which refuses
 * organization keys), or the introspection client, which presents the introspection secret
 * (compared in constant time; unset, it refuses everyone) and acts as the system.
 */
async function gatewayActor(core: Core, request: Request, origin: RequestOrigin): Promise<Actor> {
  let credential: string
  try {
    credential = readBearerToken(request)
  } catch {
    throw invalidClient()
  }
  if (credential.startsWith(API_KEY_PREFIX)) return {principal: await core.bearer.authenticate(credential), origin}
  const secret = core.config.introspectionSecret
  if (!secret || !timingSafeEqualStrings(credential, secret)) throw invalidClient()
  return {principal: {kind: 'system', name: 'introspection-client'}, origin}
}

function invalidClient(): DomainError {
  return new DomainError('auth.invalid_client', 'Invalid client credential: the introspection secret or a platform API key')
}
