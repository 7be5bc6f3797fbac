import {z} from 'zod'
import {orgNameSchema} from '../tenancy/org-schemas.js'
import {emailSchema, passwordSchema, userNameSchema} from './user-schemas.js'

// Input schemas of the identity endpoints, in the services' casing (camelCase): the daemon
// converts a JSON body's snake_case keys before validating with them, and its OpenAPI document
// (generated from them) names the fields in snake_case again, as the wire has them.

export const registerSchema = z.object({
  email: emailSchema,
  password: passwordSchema,
  name: userNameSchema.optional(),
  orgName: orgNameSchema.optional(),
})
export type RegisterInput = z.input<typeof registerSchema>

export const loginSchema = z.object({
  email: z.string().trim().min(1, 'must not be empty').max(254),
  password: z.string().min(1, 'must not be empty').max(4096),
  org: z.string().trim().min(1).max(100).optional(),
})
export type LoginInput = z.input<typeof loginSchema>

const refreshTokenSchema = z.string().min(1, 'must not be empty').max(512)

export const refreshSchema = z.object({refreshToken: refreshTokenSchema})
export type RefreshInput = z.input<typeof refreshSchema>

// `org` may also come from X-Tenant-Slug, X-Tenant-ID or the host; the service requires one.
// With the session's current refresh token, it rotates and the answer carries both tokens.
export const switchOrgSchema = z.object({
  org: z.string().trim().min(1, 'must not be empty').max(100).optional(),
  refreshToken: refreshTokenSchema.optional(),
})
export type SwitchOrgInput = z.input<typeof switchOrgSchema>

export const changePasswordSchema = z.object({
  currentPassword: z.string().min(1, 'must not be empty').max(4096),
  newPassword: passwordSchema,
})
export type ChangePasswordInput = z.input<typeof changePasswordSchema>

export const introspectSchema = z.object({
  token: z.string().max(8192),
  tokenTypeHint: z.string().max(64).optional(),
})
