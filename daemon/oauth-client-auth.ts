import type {Request} from 'express'
import {z} from 'zod'
import {DomainError} from '../src/errors/domain-error.js'
import {timingSafeEqualStrings} from '../src/security/secure-token.js'
import {readBearerToken} from './bearer-token.js'

/**
 * How a client authenticated: RFC 7591's names, and `bearer`, the daemon's own older way of
 * presenting the introspection secret (`Authorization: Bearer <secret>`).
 */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'bearer' | 'none'

/** The client fields of a request body (client_secret_post, or a public client naming itself), for a route's body schema. */
export const clientCredentialFields = {
  clientId: z.string().max(256).optional(),
  clientSecret: z.string().max(1024).optional(),
}

export interface ClientCredentialFields {
  clientId?: string
  clientSecret?: string
}

/** A request in OAuth's dialect: a form body, or HTTP Basic client credentials. */
export function isOAuthDialect(request: Request): boolean {
  return typeof request.is('application/x-www-form-urlencoded') === 'string' || /^\s*basic(\s|$)/i.test(request.get('Authorization') ?? '')
}

export interface AuthenticatedClient {
  method: ClientAuthMethod
  /** As the client named itself (not checked: see authenticateClient); null when it did not. */
  clientId: string | null
}

export interface ClientAuthOptions {
  /** The one client secret (introspection_secret); unset: every credential is refused. */
  secret: string | undefined
  /** The methods this endpoint takes; 'none' makes client authentication optional. */
  methods: readonly ClientAuthMethod[]
}

interface PresentedCredential {
  method: ClientAuthMethod
  clientId: string | null
  /** The secret as presented, and (Basic) also form-decoded: either may match. */
  secrets: string[]
}

const invalidClient = (message: string) => new DomainError('auth.invalid_client', message)

/**
 * Authenticates the client of an OAuth endpoint (RFC 6749 §2.3). The daemon has one
 * confidential client credential, the introspection_secret: presented as the password of HTTP
 * Basic (client_secret_basic, any client_id), as `client_secret` in the body
 * (client_secret_post), or where the endpoint takes it as a Bearer token. The client_id is not
 * checked: there are no registered clients yet, and the secret alone is the credential.
 * Compared in constant time. A credential that does not match, a scheme the endpoint does not
 * take, or none where one is required: auth.invalid_client. Two methods at once:
 * http.bad_request (RFC 6749 allows one per request).
 */
export function authenticateClient(request: Request, fields: ClientCredentialFields, {secret, methods}: ClientAuthOptions): AuthenticatedClient {
  const presented = readPresentedCredential(request, fields)
  if (!methods.includes(presented.method)) {
    throw invalidClient(presented.method === 'none' ? 'Client authentication is required' : 'This client authentication method is not accepted here')
  }
  if (presented.method === 'none') return {method: 'none', clientId: presented.clientId}
  // Every candidate is compared, so the time taken does not tell which one matched.
  const matches = presented.secrets.map((candidate) => secret !== undefined && secret !== '' && timingSafeEqualStrings(candidate, secret))
  if (!matches.includes(true)) throw invalidClient('Invalid client credentials')
  return {method: presented.method, clientId: presented.clientId}
}

function readPresentedCredential(request: Request, fields: ClientCredentialFields): PresentedCredential {
  const header = request.get('Authorization')
  const hasHeader = header !== undefined && header.trim() !== ''
  if (hasHeader && fields.clientSecret !== undefined) throw new DomainError('http.bad_request', 'Use one client authentication method per request, not the Authorization header and client_secret')
  const clientId = fields.clientId ?? null
  if (fields.clientSecret !== undefined) return {method: 'client_secret_post', clientId, secrets: [fields.clientSecret]}
  if (!hasHeader) return {method: 'none', clientId, secrets: []}
  const basic = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header!)
  if (basic) return readBasicCredential(basic[1]!)
  if (/^Bearer(\s|$)/i.test(header!)) {
    try {
      return {method: 'bearer', clientId, secrets: [readBearerToken(request)]}
    } catch {
      throw invalidClient('Invalid client credentials')
    }
  }
  throw invalidClient('Unsupported client authentication scheme')
}

/** `Basic base64(client_id:client_secret)`, each form-urlencoded first (RFC 6749 §2.3.1); clients that skip the encoding are met too. */
function readBasicCredential(encoded: string): PresentedCredential {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) throw invalidClient('Invalid client credentials')
  const rawId = decoded.slice(0, colon)
  const rawSecret = decoded.slice(colon + 1)
  const secret = formDecode(rawSecret)
  return {method: 'client_secret_basic', clientId: formDecode(rawId) ?? rawId, secrets: secret === null || secret === rawSecret ? [rawSecret] : [secret, rawSecret]}
}

function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return null
  }
}
