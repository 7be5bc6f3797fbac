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
  domain: z.string().nullable().describe('A custom domain that names the organization at login (set by operators)'),
  require_2fa: z.boolean().describe('Members must have 2FA on to log in to it or switch into it'),
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

/** An access token without a refresh token (switch-org without one). */
export const accessTokenResponse = z.object({
  access_token: tokenFields.access_token,
  token_type: tokenFields.token_type,
  expires_in: tokenFields.expires_in,
  session_id: tokenFields.session_id,
})

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
  email_verified: z.boolean().describe('Whether the caller’s email address is verified now'),
})

export const introspectionResponse = z.object({
  active: z.boolean(),
  token_type: z.literal('access_token').optional(),
  sub: z.string().optional(),
  sid: z.string().optional(),
  org: z.string().optional(),
  role: z.string().optional(),
  email_verified: z.boolean().optional().describe('Whether the user’s email address was verified when the token was issued'),
  jti: z.string().optional(),
  iss: z.string().optional(),
  aud: z.string().optional(),
  iat: z.number().int().optional(),
  exp: z.number().int().optional(),
})

// The organization API (daemon/routes/orgs.ts, members.ts, roles.ts, org-flags.ts, org-audit.ts).

export const orgSummaryResponse = orgResponse.extend({
  member_count: z.number().int(),
  role: z.string().optional().describe("The caller's role there (users listing their own orgs)"),
})

export const memberResponse = z.object({
  user_id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  role: z.string(),
  status: z.enum(['active', 'disabled']),
  joined_at: timestamp,
})

export const roleResponse = z.object({
  id: z.string(),
  key: z.string(),
  name: z.string(),
  level: z.number().int().describe('Rank: owner 4, admin 3, member 2, viewer 1; custom roles 1–3'),
  is_builtin: z.boolean(),
  org_id: z.string().nullable().describe('null for the built-in roles'),
  permissions: z.array(z.string()),
})
export const roleSummaryResponse = roleResponse.extend({member_count: z.number().int()})

export const permissionResponse = z.object({key: z.string(), description: z.string()})

export const orgAccessResponse = z.object({
  org: orgResponse,
  role: z.string().nullable().describe('null for platform principals, who hold no role there'),
  permissions: z.array(z.string()).describe('Effective permissions of the caller there, now'),
})

export const flagValueResponse = z.object({
  key: z.string(),
  enabled: z.boolean(),
  reason: z.enum(['override', 'rollout', 'default']),
})

export const auditEventResponse = z.object({
  seq: z.number().int(),
  id: z.string(),
  action: z.string(),
  org_id: z.string().nullable(),
  actor: z.object({type: z.string(), id: z.string().nullable(), name: z.string().nullable()}),
  target: z.object({type: z.string(), id: z.string().nullable()}).nullable(),
  metadata: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  request_id: z.string().nullable(),
  created_at: timestamp,
})

export const nextCursorField = {next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page')}
