import type {Request} from 'express'
import {z} from 'zod'
import type {Core} from '../../src/core.js'
import {DomainError} from '../../src/errors/domain-error.js'
import {revokeTokenSchema} from '../../src/identity/token-revocation-service.js'
import {authenticateClient, clientCredentialFields, type ClientAuthMethod, type ClientCredentialFields} from '../oauth-client-auth.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {NO_STORE_HEADERS} from './auth.js'

/**
 * The token and revocation endpoints take public clients (no client authentication: holding the
 * token is what counts, as for /v1/auth/refresh and logout) and the one confidential client,
 * authenticated by introspection_secret; a client that presents a wrong secret is refused.
 */
const TOKEN_CLIENT_AUTH: readonly ClientAuthMethod[] = ['none', 'client_secret_basic', 'client_secret_post']

const CLIENT_AUTH_DESCRIPTION =
  'Public clients need no authentication (`client_id` may be sent and is not checked); a client that authenticates (HTTP Basic or `client_secret` in the body, with the daemon’s introspection_secret as the secret) must present the right secret, else 401 invalid_client. Errors are in RFC 6749 §5.2’s form: `{"error": "invalid_request", "error_description": "…"}`.'

const tokenRequestSchema = z.object({
  grantType: z.string().min(1, 'must not be empty').max(256).describe('refresh_token (the only grant the daemon takes)'),
  refreshToken: z.string().max(512).optional(),
  scope: z.string().max(1024).optional().describe('The daemon grants no scopes: a non-empty scope is invalid_scope'),
  ...clientCredentialFields,
})

const oauthTokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().describe('Seconds the access token lives'),
  refresh_token: z.string().describe('The new refresh token: the one presented is now spent'),
})

const oauthErrorResponse = z.object({error: z.string(), error_description: z.string().optional()})

/** The OAuth 2.0 endpoints standard clients call: the token endpoint (refresh grant) and revocation. */
export function oauthRoutes({core}: {core: Core}): AnyRoute[] {
  const authenticate = (request: Request, body: ClientCredentialFields) => authenticateClient(request, body, {secret: core.config.introspectionSecret, methods: TOKEN_CLIENT_AUTH})
  return [
    defineRoute({
      method: 'post',
      path: '/v1/oauth/token',
      summary: 'OAuth 2.0 token endpoint: the refresh_token grant (RFC 6749 §6)',
      description: `Form-encoded (or JSON) \`grant_type=refresh_token&refresh_token=…\`. The same rotation and reuse rules as POST /v1/auth/refresh: the refresh token rotates, and presenting one already exchanged revokes its whole session (invalid_grant). Any other grant_type is unsupported_grant_type. ${CLIENT_AUTH_DESCRIPTION}`,
      tags: ['oauth'],
      body: tokenRequestSchema,
      bodyFormats: ['form', 'json'],
      errorFormat: 'oauth',
      responses: {
        200: {description: 'New tokens (Cache-Control: no-store)', schema: oauthTokenResponse},
        400: {description: 'invalid_request, invalid_grant (unknown, expired or reused refresh token), unsupported_grant_type, invalid_scope', schema: oauthErrorResponse},
        401: {description: 'invalid_client: a wrong client secret', schema: oauthErrorResponse},
      },
      async handle({body, client, request}) {
        authenticate(request, body)
        if (body.grantType !== 'refresh_token') throw new DomainError('oauth.unsupported_grant_type', 'Only the refresh_token grant is supported')
        if (body.refreshToken === undefined) throw new DomainError('validation.failed', 'Invalid refresh_token: is required', {problems: [{in: 'body', field: 'refresh_token', message: 'is required'}]})
        if (body.scope !== undefined && body.scope.trim() !== '') throw new DomainError('oauth.invalid_scope', 'The daemon grants no scopes')
        const tokens = await core.sessions.refresh(client, {refreshToken: body.refreshToken})
        return {
          body: {accessToken: tokens.accessToken, tokenType: tokens.tokenType, expiresIn: tokens.expiresIn, refreshToken: tokens.refreshToken},
          headers: NO_STORE_HEADERS,
        }
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/oauth/revoke',
      summary: 'OAuth 2.0 token revocation (RFC 7009)',
      description: `Form-encoded (or JSON) \`token=…\` (\`token_type_hint\` is accepted; the token's form tells its type). A refresh token ends its session, as a logout does: the session's access tokens are refused on every daemon within a revocation poll. An access token is voided alone. An unknown, invalid or expired token answers 200 too (RFC 7009 §2.2); an API key (\`sk_…\`) is unsupported_token_type. ${CLIENT_AUTH_DESCRIPTION}`,
      tags: ['oauth'],
      body: revokeTokenSchema.extend(clientCredentialFields),
      bodyFormats: ['form', 'json'],
      errorFormat: 'oauth',
      responses: {
        200: {description: 'Revoked, or nothing to revoke; no body'},
        400: {description: 'invalid_request, unsupported_token_type', schema: oauthErrorResponse},
        401: {description: 'invalid_client: a wrong client secret', schema: oauthErrorResponse},
      },
      async handle({body, client, request}) {
        authenticate(request, body)
        await core.sessions.revokeToken(client, {token: body.token, tokenTypeHint: body.tokenTypeHint})
        return {status: 200}
      },
    }),
  ]
}
