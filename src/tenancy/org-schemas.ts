import {z} from 'zod'
import {ORG_TIERS} from './org-repo.js'

const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Whether a reference has the shape of our ids (UUIDs), as opposed to a slug. */
export const looksLikeId = (ref: string): boolean => ID_PATTERN.test(ref)
const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])$/

export const orgSlugSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(SLUG_PATTERN, 'must be 2–63 characters of a–z, 0–9 and inner hyphens')
  // `<org>` accepts a slug or an id everywhere, so a slug must never look like an id.
  .refine((slug) => !looksLikeId(slug), 'must not look like an id (a UUID)')

export const orgNameSchema = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters')
export const orgTierSchema = z.enum(ORG_TIERS, {message: `must be one of ${ORG_TIERS.join(', ')}`})

export const createOrgSchema = z.object({
  name: orgNameSchema,
  slug: orgSlugSchema.optional(),
  tier: orgTierSchema.default('free'),
  owner: z.string().trim().min(1).optional(),
  ifNotExists: z.boolean().default(false),
})
export type CreateOrgInput = z.input<typeof createOrgSchema>

export const updateOrgSchema = z
  .object({name: orgNameSchema.optional(), tier: orgTierSchema.optional()})
  .refine((input) => input.name !== undefined || input.tier !== undefined, {message: 'give at least one of name, tier'})
export type UpdateOrgInput = z.input<typeof updateOrgSchema>

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
