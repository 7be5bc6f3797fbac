import {z} from 'zod'

export const flagKeySchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'must be 1–100 characters of a–z, 0–9, ".", "_" or "-"')

export const rolloutPercentageSchema = z.number().int('must be a whole number').min(0, 'must be between 0 and 100').max(100, 'must be between 0 and 100')

export const createFlagSchema = z.object({
  key: flagKeySchema,
  description: z.string().trim().max(500).optional(),
  defaultEnabled: z.boolean().default(false),
  rolloutPercentage: rolloutPercentageSchema.nullable().default(null),
  ifNotExists: z.boolean().default(false),
})
export type CreateFlagInput = z.input<typeof createFlagSchema>

export const setFlagSchema = z
  .object({
    description: z.string().trim().max(500).optional(),
    defaultEnabled: z.boolean().optional(),
    /** null clears the rollout, so the default decides again. */
    rolloutPercentage: rolloutPercentageSchema.nullable().optional(),
  })
  .refine((input) => Object.values(input).some((value) => value !== undefined), {message: 'give at least one of default, rollout, description'})
export type SetFlagInput = z.input<typeof setFlagSchema>

export const overrideValueSchema = z.enum(['on', 'off', 'clear'], {message: 'must be on, off or clear'})

/** A flag named by its key (validated where it is looked up). */
export interface FlagRefInput {
  key: string
}

/** `flag override <key> --org <org> on|off|clear`: forces the flag for one organization, or clears that. */
export const overrideSchema = z.object({
  key: z.string(),
  org: z.string().trim().min(1, 'must not be empty'),
  value: overrideValueSchema,
})
/** `value` is checked by the schema: the CLI passes what it was given. */
export type OverrideInput = Omit<z.input<typeof overrideSchema>, 'value'> & {value: string}

/** GET /v1/orgs/{org}/flags/{key}: one flag evaluated for one organization. */
export const orgFlagSchema = z.object({
  org: z.string().trim().min(1, 'must not be empty').max(100),
  key: flagKeySchema,
})
export type OrgFlagInput = z.input<typeof orgFlagSchema>
