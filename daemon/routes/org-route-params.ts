import {z} from 'zod'
import {userRefSchema} from '../../src/access/member-schemas.js'
import {orgRefSchema as serviceOrgRefSchema} from '../../src/tenancy/org-schemas.js'

// Path and query parameters shared by the organization API. Only lengths are checked here: what
// a reference names, and whether the caller may see it, is the service's answer, so an unknown
// org and someone else's answer alike (org.not_found).

/** `{org}`: a slug or an id. */
export const orgRefSchema = serviceOrgRefSchema.describe('The organization: its slug or its id')

export const orgParams = z.object({org: orgRefSchema})
export const memberParams = z.object({org: orgRefSchema, user: userRefSchema.describe('The member: their user id (an email works too)')})
export const roleParams = z.object({org: orgRefSchema, role: z.string().trim().min(1).max(100).describe('The role key')})

/** The page size of HTTP lists: bounded so one request cannot read a whole table. */
export const PAGE_LIMIT_DEFAULT = 50
export const PAGE_LIMIT_MAX = 200

/** `limit` of an HTTP list: always bounded, where the CLI may ask for everything. */
export const pageLimitSchema = z.coerce
  .number()
  .int('must be a whole number')
  .min(1, `must be between 1 and ${PAGE_LIMIT_MAX}`)
  .max(PAGE_LIMIT_MAX, `must be between 1 and ${PAGE_LIMIT_MAX}`)
  .default(PAGE_LIMIT_DEFAULT)
  .describe(`Page size (default ${PAGE_LIMIT_DEFAULT}, at most ${PAGE_LIMIT_MAX})`)

/** Says which catalog permission a route needs, the same way on every route of the API. */
export function requires(permission: string, more = ''): string {
  return `Requires \`${permission}\` in the organization.${more ? ` ${more}` : ''}`
}
