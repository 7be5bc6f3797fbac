import {z} from 'zod'
import {CONTROL_CHARACTERS_MESSAGE, hasNoControlCharacters} from '../shared/display-text.js'
import {ORG_TIERS} from './org-repo.js'

const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Whether a reference has the shape of our ids (UUIDs), as opposed to a slug. */
export const looksLikeId = (ref: string): boolean => ID_PATTERN.test(ref)
const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])$/
const HOST_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/

export const orgSlugSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(SLUG_PATTERN, 'must be 2–63 characters of a–z, 0–9 and inner hyphens')
  // `<org>` accepts a slug or an id everywhere, so a slug must never look like an id.
  .refine((slug) => !looksLikeId(slug), 'must not look like an id (a UUID)')

export const orgNameSchema = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').refine(hasNoControlCharacters, CONTROL_CHARACTERS_MESSAGE)
export const orgTierSchema = z.enum(ORG_TIERS, {message: `must be one of ${ORG_TIERS.join(', ')}`})

/** An organization reference: its slug or its id. What it names, and whether the caller may see it, is the service's answer. */
export const orgRefSchema = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters')

/** A custom domain (a host name with at least one dot, lowercase, no trailing dot). */
export const orgDomainSchema = z
  .string()
  .trim()
  .toLowerCase()
  .transform((host) => host.replace(/\.$/, ''))
  .pipe(z.string().regex(HOST_PATTERN, 'must be a host name like login.acme.com'))

/** POST /v1/orgs and `org create`. `tier` and `owner` are for platform principals (platform.required for others). */
export const createOrgSchema = z.object({
  name: orgNameSchema,
  slug: orgSlugSchema.optional(),
  tier: orgTierSchema.optional().describe('Plan tier (platform principals only; default free)'),
  owner: z.string().trim().min(1).max(320).optional().describe('The user who becomes owner: id or email (platform principals only; a user may name only themselves)'),
  ifNotExists: z.boolean().default(false),
})
export type CreateOrgInput = z.input<typeof createOrgSchema>

/**
 * PATCH /v1/orgs/{org} and `org update`. `tier` and `domain` are for platform principals; domain
 * null (or '') clears it. `require2fa` (`require_2fa` on the wire) needs org.update only.
 */
export const updateOrgSchema = z
  .object({
    name: orgNameSchema.optional(),
    tier: orgTierSchema.optional(),
    domain: z
      .union([z.literal('').transform(() => null), orgDomainSchema])
      .nullable()
      .optional()
      .describe('Custom domain naming the organization at login (platform principals only); null clears it'),
    require2fa: z.boolean().optional().describe('Members must have 2FA on to log in to the organization or switch into it'),
  })
  .refine((input) => input.name !== undefined || input.tier !== undefined || input.domain !== undefined || input.require2fa !== undefined, {
    message: 'give at least one of name, tier, domain, require_2fa',
  })
export type UpdateOrgInput = z.input<typeof updateOrgSchema>

/** GET /v1/orgs and `org list`. `includeDeleted` matters to platform principals only: users see their live orgs. */
export const listOrgsSchema = z.object({
  includeDeleted: z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1')]).default(false),
})
export type ListOrgsInput = z.input<typeof listOrgsSchema>

/** The input of every method on one organization (`show`, `delete`, `restore`, `purge`, `me`). */
export const orgRefInputSchema = z.object({org: orgRefSchema})
export type OrgRefInput = z.input<typeof orgRefInputSchema>

/** A slug made from a name: "Acme Corp." → "acme-corp". */
export function slugFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/g, '')
}
