import {z} from 'zod'
import {CONTROL_CHARACTERS_MESSAGE, hasNoControlCharacters} from '../shared/display-text.js'
import {CUSTOM_ROLE_MAX_LEVEL} from './permission-catalog.js'

export const roleKeySchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z][a-z0-9_-]{1,39}$/, 'must be 2–40 characters: a letter, then a–z, 0–9, _ or -')

const permissionListSchema = z
  .array(z.string().trim().min(1))
  .min(1, 'give at least one permission')
  .transform((keys) => [...new Set(keys)].sort())

const roleLevelSchema = z.coerce
  .number()
  .int('must be a whole number')
  .min(1, `must be between 1 and ${CUSTOM_ROLE_MAX_LEVEL}`)
  .max(CUSTOM_ROLE_MAX_LEVEL, `must be between 1 and ${CUSTOM_ROLE_MAX_LEVEL}: custom roles rank below owner`)

/** A role's display name. */
const roleNameSchema = z.string().trim().min(1, 'must not be empty').max(100).refine(hasNoControlCharacters, CONTROL_CHARACTERS_MESSAGE)

export const createRoleSchema = z.object({
  key: roleKeySchema,
  name: roleNameSchema,
  permissions: permissionListSchema,
  level: roleLevelSchema.default(1),
})
/** `POST /v1/orgs/{org}/roles`, and `role create` with the org as its argument. */
export type CreateRoleInput = {org: string} & z.input<typeof createRoleSchema>

export const updateRoleSchema = z
  .object({name: roleNameSchema.optional(), permissions: permissionListSchema.optional(), level: roleLevelSchema.optional()})
  .refine((input) => input.name !== undefined || input.permissions !== undefined || input.level !== undefined, {message: 'give at least one of name, permissions, level'})

/** `PATCH /v1/orgs/{org}/roles/{role}`: the role by key, and the body's fields. */
export type UpdateRoleInput = {org: string; role: string} & z.input<typeof updateRoleSchema>

/** showRole and deleteRole: one role of an organization, by key (any case). */
export interface RoleRefInput {
  org: string
  role: string
}
