import {z} from 'zod'

// Response bodies as they go on the wire (snake_case). The OpenAPI document is generated from
// them, and tests check every response against them.

const timestamp = z.string().describe('ISO-8601 UTC time')

export const userResponse = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  is_platform_admin: z.boolean(),
  status: z.enum(['active', 'disabled']),
  email_verified_at: timestamp.nullable(),
  disabled_at: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
})

export const orgResponse = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  tier: z.string(),
  created_at: timestamp,
  updated_at: timestamp,
  deleted_at: timestamp.nullable(),
})

export const tokenFields = {
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().describe('Seconds until the access token expires'),
  refresh_token: z.string().describe('Opaque; rotated on every use'),
  session_id: z.string(),
}
export const tokenResponse = z.object(tokenFields)

export const sessionResponse = z.object({
  id: z.string(),
  user_id: z.string(),
  org_id: z.string().nullable(),
  user_agent: z.string().nullable(),
  ip: z.string().nullable(),
  created_at: timestamp,
  last_used_at: timestamp,
  expires_at: timestamp,
  is_current: z.boolean().optional(),
})

export const membershipResponse = z.object({org_id: z.string(), org_slug: z.string(), org_name: z.string(), role: z.string()})

export const meResponse = z.object({
  user: userResponse,
  memberships: z.array(membershipResponse),
  session: sessionResponse,
  active_org_id: z.string().nullable(),
  role: z.string().nullable(),
})

export const introspectionResponse = z.object({
  active: z.boolean(),
  token_type: z.literal('access_token').optional(),
  sub: z.string().optional(),
  sid: z.string().optional(),
  org: z.string().optional(),
  role: z.string().optional(),
  jti: z.string().optional(),
  iss: z.string().optional(),
  aud: z.string().optional(),
  iat: z.number().int().optional(),
  exp: z.number().int().optional(),
})
