import type {Core} from '../../src/core.js'
import {DomainError, isDomainError} from '../../src/errors/domain-error.js'
import {introspectSchema} from '../../src/identity/auth-schemas.js'
import {timingSafeEqualStrings} from '../../src/security/secure-token.js'
import {readBearerToken} from '../bearer-token.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {introspectionResponse} from './response-schemas.js'

/** RFC 7662 token introspection, for services that cannot wait for an access token to expire. */
export function tokenRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/tokens/introspect',
      summary: 'Is this access token active now? (RFC 7662)',
      description: 'Authenticated by the daemon’s introspection credential (setting introspection_secret) as a Bearer token. `active` is false for expired, revoked, malformed or foreign tokens.',
      tags: ['tokens'],
      body: introspectSchema,
      responses: {200: {description: 'The token’s state', schema: introspectionResponse}},
      async handle({body, request}) {
        const secret = core.config.introspectionSecret
        const presented = readClientCredential(request)
        // Compared in constant time; an unset secret refuses every caller.
        if (!secret || !timingSafeEqualStrings(presented, secret)) throw new DomainError('auth.invalid_client', 'Invalid introspection credential')
        try {
          const caller = await core.authenticator.authenticate(body.token)
          return {
            body: {
              active: true,
              token_type: 'access_token',
              sub: caller.userId,
              sid: caller.sessionId,
              ...(caller.orgId ? {org: caller.orgId} : {}),
              ...(caller.role ? {role: caller.role} : {}),
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

function readClientCredential(request: Parameters<typeof readBearerToken>[0]): string {
  try {
    return readBearerToken(request)
  } catch {
    throw new DomainError('auth.invalid_client', 'Invalid introspection credential')
  }
}
