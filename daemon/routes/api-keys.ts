import {z} from 'zod'
import type {Core} from '../../src/core.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {NO_STORE_HEADERS} from './auth.js'
import {orgParams, orgRefSchema, requires} from './org-route-params.js'

const timestamp = z.string().describe('ISO-8601 UTC time')

/** An API key as listed: never its secret or hash. */
export const apiKeyResponse = z.object({
  id: z.string(),
  org_id: z.string().nullable().describe('null for a platform key'),
  is_platform: z.boolean(),
  name: z.string(),
  prefix: z.string().describe('The visible start of the secret, to tell keys apart'),
  role: z.string().nullable().describe('The key’s role; null for a key made of a permission list'),
  permissions: z.array(z.string()).describe('What the key may do now: its role’s permissions as the role is now, or its own list'),
  status: z.enum(['active', 'expired', 'revoked']),
  created_by: z.object({type: z.string(), id: z.string().nullable()}),
  created_at: timestamp,
  expires_at: timestamp.nullable(),
  last_used_at: timestamp.nullable().describe('Recorded at most once a minute'),
  revoked_at: timestamp.nullable(),
})

const createdApiKeyResponse = apiKeyResponse.extend({
  secret: z.string().describe('`sk_…`: shown this once, stored only as a hash. Send it as `Authorization: Bearer sk_…`.'),
})

// The service's input (camelCase: the daemon converts the wire's expires_at); the service validates it again.
const createApiKeyBody = z.object({
  name: z.string().max(100),
  role: z.string().max(100).optional().describe('A built-in or custom role of the organization; give this or permissions'),
  permissions: z.array(z.string().max(100)).max(100).optional().describe('Catalog permissions (the key grants no roles); give this or role'),
  expiresAt: z.string().max(64).optional().describe('An ISO time, or a duration from now such as 30d, 12h, 2w'),
})

const apiKeyParams = z.object({org: orgRefSchema, id: z.string().trim().min(1).max(200).describe('The key id')})

const GRANT_RULES =
  'A key holds nothing its creator does not: a role at or above the creator’s own needs an owner (role.grant_forbidden), and every permission must be held by the creator (permission.not_held).'

/** API keys of an organization: create (the secret once), list, revoke. */
export function apiKeyRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/orgs/:org/api-keys',
      summary: 'Create an API key',
      description: requires('apikeys.manage', `Give a role or a list of permissions. The answer carries the secret once. Names are unique in the organization (apikey.name_taken). ${GRANT_RULES}`),
      tags: ['api-keys'],
      auth: 'principal',
      params: orgParams,
      body: createApiKeyBody,
      responses: {201: {description: 'The new key with its secret', schema: createdApiKeyResponse}},
      async handle({actor, params, body}) {
        const {key, secret} = await core.apiKeys.createApiKey(actor, {org: params.org, name: body.name, role: body.role, permissions: body.permissions, expiresAt: body.expiresAt})
        return {status: 201, body: {...key, secret}, headers: NO_STORE_HEADERS}
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orgs/:org/api-keys',
      summary: 'The API keys of an organization',
      description: requires('apikeys.manage', 'Oldest first, revoked and expired keys included.'),
      tags: ['api-keys'],
      auth: 'principal',
      params: orgParams,
      responses: {200: {description: 'Keys', schema: z.object({api_keys: z.array(apiKeyResponse)})}},
      handle: async ({actor, params}) => ({body: {apiKeys: await core.apiKeys.listApiKeys(actor, {org: params.org})}}),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/orgs/:org/api-keys/:id',
      summary: 'Revoke an API key',
      description: requires('apikeys.manage', 'Every daemon refuses the key from its next request on. A key of another organization is apikey.not_found.'),
      tags: ['api-keys'],
      auth: 'principal',
      params: apiKeyParams,
      responses: {204: {description: 'Revoked'}},
      async handle({actor, params}) {
        await core.apiKeys.revokeApiKey(actor, {org: params.org, id: params.id})
        return {status: 204}
      },
    }),
  ]
}
