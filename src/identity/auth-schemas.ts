import {z} from 'zod'
import {emailSchema, passwordSchema, userNameSchema} from './user-schemas.js'

// Input schemas of the identity endpoints: the daemon validates with them and generates its
// OpenAPI document from them. Field names are the JSON contract (snake_case).

export const registerSchema = z.object({
  email: emailSchema,
  password: passwordSchema,
  name: userNameSchema.optional(),
  org_name: z.string().trim().min(1).max(200).optional(),
})
export type RegisterInput = z.input<typeof registerSchema>

export const loginSchema = z.object({
  email: z.string().trim().min(1, 'must not be empty').max(254),
  password: z.string().min(1, 'must not be empty').max(4096),
  org: z.string().trim().min(1).max(100).optional(),
})
export type LoginInput = z.input<typeof loginSchema>

export const refreshSchema = z.object({refresh_token: z.string().min(1, 'must not be empty').max(512)})
export type RefreshInput = z.input<typeof refreshSchema>

export const switchOrgSchema = z.object({org: z.string().trim().min(1, 'must not be empty').max(100)})
export type SwitchOrgInput = z.input<typeof switchOrgSchema>

export const changePasswordSchema = z.object({
  current_password: z.string().min(1, 'must not be empty').max(4096),
  new_password: passwordSchema,
})
export type ChangePasswordInput = z.input<typeof changePasswordSchema>

export const introspectSchema = z.object({
  token: z.string().max(8192),
  token_type_hint: z.string().max(64).optional(),
})
