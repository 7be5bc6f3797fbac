import {z} from 'zod'
import type {Core} from '../../src/core.js'
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
    ...['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'].map((path) =>
      defineRoute({
        method: 'get',
        path,
        summary: path.endsWith('openid-configuration') ? 'OpenID Provider metadata: issuer, JWKS URI, endpoints' : 'OAuth 2.0 Authorization Server Metadata (RFC 8414): the same document',
        description: 'Advertises only what the daemon does: the refresh_token grant at the token endpoint, revocation (RFC 7009), introspection (RFC 7662) and the JWKS. No authorization endpoint, no password grant and no ID tokens yet.',
        tags: ['discovery'],
        responses: {200: {description: 'Provider metadata', schema: z.record(z.string(), z.unknown())}},
        handle: () => ({rawJson: true, body: providerMetadata(issuer, core.config.introspectionSecret)}),
      }),
    ),
  ]
}

/**
 * The discovery document (OpenID Connect Discovery 1.0 and RFC 8414 name the same fields).
 * Client authentication with a secret is advertised while introspection_secret is set (it is
 * the one client secret); the token and revocation endpoints also take public clients (none).
 * No id_token_signing_alg_values_supported, userinfo or registration endpoint, and no response
 * types: no ID tokens are issued and there is no authorization endpoint yet.
 */
function providerMetadata(issuer: string, clientSecret: string | undefined): Record<string, unknown> {
  const secretMethods = clientSecret ? ['client_secret_basic', 'client_secret_post'] : []
  return {
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    token_endpoint: `${issuer}/v1/oauth/token`,
    token_endpoint_auth_methods_supported: ['none', ...secretMethods],
    revocation_endpoint: `${issuer}/v1/oauth/revoke`,
    revocation_endpoint_auth_methods_supported: ['none', ...secretMethods],
    introspection_endpoint: `${issuer}/v1/tokens/introspect`,
    introspection_endpoint_auth_methods_supported: secretMethods,
    grant_types_supported: ['refresh_token'],
    response_types_supported: [],
    subject_types_supported: ['public'],
    // The claims of the access tokens (a JWT signed with this algorithm, verified with the JWKS).
    claims_supported: ['iss', 'aud', 'sub', 'sid', 'jti', 'iat', 'exp', 'org', 'role', 'email_verified'],
  }
}
