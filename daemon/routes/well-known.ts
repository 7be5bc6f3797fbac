import {z} from 'zod'
import type {Core} from '../../src/core.js'
import {SIGNING_ALGORITHM} from '../../src/security/signing-keys.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'

const jwksResponse = z.object({keys: z.array(z.object({kty: z.string(), crv: z.string(), x: z.string(), y: z.string(), kid: z.string(), alg: z.string(), use: z.string()}))})

/** Discovery: the public keys and the OpenID configuration, so any JWT library verifies our tokens from the issuer URL alone. */
export function wellKnownRoutes({core}: {core: Core}): AnyRoute[] {
  const issuer = core.issuer
  return [
    defineRoute({
      method: 'get',
      path: '/.well-known/jwks.json',
      summary: 'The public keys that verify access tokens (JWKS)',
      tags: ['discovery'],
      responses: {200: {description: 'JWK set', schema: jwksResponse}},
      async handle({response}) {
        // Short cache: a rotated key must reach verifiers well within a token's lifetime.
        response.setHeader('Cache-Control', 'public, max-age=60')
        return {body: await core.keyProvider.publicJwks(), rawJson: true}
      },
    }),
    defineRoute({
      method: 'get',
      path: '/.well-known/openid-configuration',
      summary: 'OpenID Provider metadata: issuer, JWKS URI, algorithms, endpoints',
      tags: ['discovery'],
      responses: {200: {description: 'Provider metadata', schema: z.record(z.string(), z.unknown())}},
      handle: () => ({
        rawJson: true,
        body: {
          issuer,
          jwks_uri: `${issuer}/.well-known/jwks.json`,
          token_endpoint: `${issuer}/v1/auth/login`,
          introspection_endpoint: `${issuer}/v1/tokens/introspect`,
          userinfo_endpoint: `${issuer}/v1/auth/me`,
          registration_endpoint: `${issuer}/v1/auth/register`,
          revocation_endpoint: `${issuer}/v1/auth/logout`,
          id_token_signing_alg_values_supported: [SIGNING_ALGORITHM],
          token_endpoint_auth_methods_supported: ['none'],
          introspection_endpoint_auth_methods_supported: ['bearer'],
          response_types_supported: ['token'],
          subject_types_supported: ['public'],
          grant_types_supported: ['password', 'refresh_token'],
          claims_supported: ['iss', 'aud', 'sub', 'sid', 'jti', 'iat', 'exp', 'org', 'role'],
        },
      }),
    }),
  ]
}
