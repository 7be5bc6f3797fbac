import {z} from 'zod'
import type {Core} from '../../src/core.js'
import {isDomainError} from '../../src/errors/domain-error.js'
import {API_KEY_PREFIX} from '../../src/access/bearer-authenticator.js'
import {introspectSchema} from '../../src/identity/auth-schemas.js'
import {authenticateClient, clientCredentialFields, isOAuthDialect} from '../oauth-client-auth.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {introspectionResponse} from './response-schemas.js'

// An API key (`sk_…`) is introspected too: what it may do now, in which organization.
const tokenIntrospectionResponse = introspectionResponse.extend({
  token_type: z.enum(['access_token', 'api_key']).optional(),
  org: z.string().nullable().optional().describe('The organization id (null: a platform key)'),
  platform: z.boolean().optional().describe('API keys: a platform key acts on every organization'),
  name: z.string().optional().describe('API keys: the key’s name'),
  permissions: z.array(z.string()).optional().describe('API keys: what the key may do now'),
})

/** RFC 7662 token introspection, for services that cannot wait for an access token to expire. */
export function tokenRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/tokens/introspect',
      // Resource servers call it for their requests, with the introspection secret: not a per-IP budget's business.
      rateLimit: 'none',
      summary: 'Is this access token or API key active now? (RFC 7662)',
      description:
        'Authenticated by the daemon’s introspection credential (setting introspection_secret): as a Bearer token, as the password of HTTP Basic (client_secret_basic, any client_id) or as `client_secret` in the body (client_secret_post). The body is JSON or form-encoded (`token=…`). A request in OAuth’s dialect (a form body or Basic credentials) gets errors in RFC 6749 §5.2’s form (`{"error": "invalid_client", …}`), others the daemon’s. `active` is false for expired, revoked, malformed or foreign tokens. An API key (`sk_…`) answers `token_type: api_key`, its `org` (null and `platform: true` for a platform key) and its `permissions` as they are now.',
      tags: ['tokens'],
      body: introspectSchema.extend(clientCredentialFields),
      bodyFormats: ['json', 'form'],
      errorFormat: (request) => (isOAuthDialect(request) ? 'oauth' : 'daemon'),
      responses: {200: {description: 'The token’s state', schema: tokenIntrospectionResponse}},
      async handle({body, request}) {
        // Compared in constant time; an unset secret refuses every caller.
        authenticateClient(request, body, {secret: core.config.introspectionSecret, methods: ['bearer', 'client_secret_basic', 'client_secret_post']})
        if (body.token.startsWith(API_KEY_PREFIX)) return {body: await introspectApiKey(core, body.token)}
        try {
          const caller = await core.authenticator.authenticate(body.token)
          // Its role claim no longer holds in its org: apps must not trust it.
          if (caller.isOrgBindingRevoked) return {body: {active: false}}
          return {
            body: {
              active: true,
              token_type: 'access_token',
              sub: caller.userId,
              sid: caller.sessionId,
              ...(caller.orgId ? {org: caller.orgId} : {}),
              ...(caller.role ? {role: caller.role} : {}),
              ...(caller.emailVerified === undefined ? {} : {email_verified: caller.emailVerified}),
              jti: caller.jti,
              iss: core.issuer,
              aud: core.config.audience,
              iat: caller.issuedAt,
              exp: caller.expiresAt,
            },
          }
        } catch (error) {
          if (isDomainError(error) && error.code === 'auth.invalid_token') return {body: {active: false}}
          throw error
        }
      },
    }),
  ]
}

async function introspectApiKey(core: Core, secret: string): Promise<Record<string, unknown>> {
  const key = await core.apiKeys.introspectApiKey(secret)
  if (!key) return {active: false}
  return {
    active: true,
    token_type: 'api_key',
    sub: key.keyId,
    name: key.name,
    org: key.orgId,
    ...(key.isPlatform ? {platform: true} : {}),
    ...(key.role ? {role: key.role} : {}),
    permissions: key.permissions,
    iss: core.issuer,
    iat: Math.floor(Date.parse(key.createdAt) / 1000),
    ...(key.expiresAt ? {exp: Math.floor(Date.parse(key.expiresAt) / 1000)} : {}),
  }
}
