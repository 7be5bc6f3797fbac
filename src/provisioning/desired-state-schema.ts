import {z} from 'zod'
import {CUSTOM_ROLE_MAX_LEVEL} from '../access/permission-catalog.js'
import {createRoleSchema} from '../access/role-schemas.js'
import {ISO_TIME} from '../apikeys/api-key-schemas.js'
import {createFlagSchema, flagKeySchema, rolloutPercentageSchema} from '../flags/flag-schemas.js'
import {emailSchema, userNameSchema} from '../identity/user-schemas.js'
import {orgDomainSchema, orgNameSchema, orgSlugSchema, orgTierSchema} from '../tenancy/org-schemas.js'

/**
 * The file `apply -f` reads and `export` writes (snake_case keys, as in the JSON contract).
 * Every field maps onto what the core's services take; a field left out is not managed (left as
 * it is), except the lists of an org under --prune. Built from the services' own schemas, so a
 * value the service would refuse is refused here, with its path, before anything is written.
 */

/** A limit override: a whole number ≥ 0, "unlimited", or null (the tier's). As org-limits-service takes it. */
const limitValueSchema = z.union([
  z.literal('unlimited'),
  z.null(),
  z.number().int('must be a whole number').min(0, 'must be ≥ 0').max(10_000_000, 'must be at most 10000000'),
])

const permissionsSchema = z.array(z.string().trim().min(1, 'must not be empty')).min(1, 'give at least one permission').transform((keys) => [...new Set(keys)].sort())

/** disabled: true keeps (or makes) the user disabled, false enables them; left out, left as it is. */
const userSchema = z.strictObject({email: emailSchema, name: userNameSchema.optional(), disabled: z.boolean().optional()})

const flagSchema = z.strictObject({
  key: flagKeySchema,
  description: createFlagSchema.shape.description,
  default: z.boolean().optional(),
  rollout: rolloutPercentageSchema.nullable().optional(),
})

const roleSchema = z.strictObject({
  key: createRoleSchema.shape.key,
  name: createRoleSchema.shape.name.optional(),
  // A number, not coerced as the CLI's role create reads it: a file's "2" is a mistake to report.
  level: z
    .number()
    .int('must be a whole number')
    .min(1, `must be between 1 and ${CUSTOM_ROLE_MAX_LEVEL}`)
    .max(CUSTOM_ROLE_MAX_LEVEL, `must be between 1 and ${CUSTOM_ROLE_MAX_LEVEL}: custom roles rank below owner`)
    .optional(),
  permissions: permissionsSchema,
})

const memberSchema = z.strictObject({user: emailSchema, role: createRoleSchema.shape.key})

const apiKeySchema = z
  .strictObject({
    name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    role: createRoleSchema.shape.key.optional(),
    permissions: permissionsSchema.optional(),
    expires_at: z
      .union([z.string(), z.date().transform((date) => date.toISOString())])
      .refine((value) => ISO_TIME.test(value) && !Number.isNaN(new Date(value).getTime()), 'must be an ISO time')
      .transform((value) => new Date(value).toISOString())
      .optional(),
  })
  .refine((key) => (key.role === undefined) !== (key.permissions === undefined), {message: 'give exactly one of role or permissions', path: ['role']})

const overrideValueSchema = z.union([z.enum(['on', 'off'], {message: 'must be on or off'}), z.boolean().transform((value) => (value ? 'on' : 'off'))])

const orgSchema = z.strictObject({
  slug: orgSlugSchema,
  name: orgNameSchema,
  tier: orgTierSchema.optional(),
  domain: orgDomainSchema.nullable().optional(),
  require_2fa: z.boolean().optional(),
  limits: z.strictObject({seats: limitValueSchema.optional(), rpm: limitValueSchema.optional()}).optional(),
  roles: z.array(roleSchema).default([]),
  members: z.array(memberSchema).default([]),
  flags: z.record(z.string(), overrideValueSchema).default({}),
  api_keys: z.array(apiKeySchema).default([]),
})

export const desiredStateSchema = z.strictObject({
  users: z.array(userSchema).default([]),
  flags: z.array(flagSchema).default([]),
  orgs: z.array(orgSchema).default([]),
})

export type DesiredState = z.output<typeof desiredStateSchema>
export type DesiredOrg = DesiredState['orgs'][number]
export type DesiredUser = DesiredState['users'][number]
export type DesiredFlag = DesiredState['flags'][number]
export type DesiredRole = DesiredOrg['roles'][number]
export type DesiredApiKey = DesiredOrg['api_keys'][number]
/** The file as export writes it (what the schema reads back). */
export type StateDocument = z.input<typeof desiredStateSchema>
