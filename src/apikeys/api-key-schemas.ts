import {z} from 'zod'
import {roleKeySchema} from '../access/role-schemas.js'
import {CONTROL_CHARACTERS_MESSAGE, hasNoControlCharacters} from '../shared/display-text.js'

const UNIT_MILLISECONDS: Record<string, number> = {m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000}
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/

const orgRefSchema = z.string().trim().min(1, 'must not be empty').max(200)
// Shown to operators (audit tail, the TUI) as the actor's name: no control characters, like org and user names.
const keyNameSchema = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters').refine(hasNoControlCharacters, CONTROL_CHARACTERS_MESSAGE)

/** An expiry as given: an ISO time, or a duration from now such as 30d, 12h, 2w (units m, h, d, w). */
const expirySchema = z
  .string()
  .trim()
  .refine((value) => /^\d{1,6}[mhdw]$/.test(value) || (ISO_TIME.test(value) && !Number.isNaN(new Date(value).getTime())), 'must be an ISO time or a duration like 30d, 12h, 2w')

const permissionListSchema = z
  .array(z.string().trim().min(1, 'must not be empty'))
  .min(1, 'give at least one permission')
  .transform((keys) => [...new Set(keys)].sort())

export const createApiKeySchema = z
  .object({
    org: orgRefSchema,
    name: keyNameSchema,
    role: roleKeySchema.optional(),
    permissions: permissionListSchema.optional(),
    expiresAt: expirySchema.optional(),
  })
  .refine((input) => (input.role === undefined) !== (input.permissions === undefined), {message: 'give exactly one of role or permissions', path: ['role']})
export type CreateApiKeyInput = z.input<typeof createApiKeySchema>

export const createPlatformKeySchema = z.object({name: keyNameSchema, expiresAt: expirySchema.optional()})
export type CreatePlatformKeyInput = z.input<typeof createPlatformKeySchema>

export const listApiKeysSchema = z.object({org: orgRefSchema})
export type ListApiKeysInput = z.input<typeof listApiKeysSchema>

export const revokeApiKeySchema = z.object({org: orgRefSchema.optional(), id: z.string().trim().min(1, 'must not be empty').max(200)})
export type RevokeApiKeyInput = z.input<typeof revokeApiKeySchema>

/** The ISO time an expiry names; a duration counts from `now`. The input is already validated. */
export function resolveExpiry(value: string, now: Date): string {
  const relative = /^(\d{1,6})([mhdw])$/.exec(value)
  if (relative) return new Date(now.getTime() + Number(relative[1]) * UNIT_MILLISECONDS[relative[2]!]!).toISOString()
  return new Date(value).toISOString()
}
