import {z} from 'zod'

/**
 * The inputs of the member service, as both faces send them (camelCase; the daemon converts
 * snake_case JSON keys first). The HTTP bodies and query are exported on their own: the org and
 * the user come from the route's path there, and from arguments at the CLI.
 */

/** A role key as given: any case (the role lookup lowercases); an unknown one is role.not_found. */
export const memberRoleRefSchema = z.string().trim().min(1, 'must not be empty').max(100)

/** A user by id or email. */
export const userRefSchema = z.string().trim().min(1, 'must not be empty').max(320)

/** `POST /v1/orgs/{org}/members` — a direct add, for platform principals only. */
export const addMemberSchema = z.object({user: userRefSchema, role: memberRoleRefSchema})

/** `PATCH /v1/orgs/{org}/members/{user}`. */
export const setMemberRoleSchema = z.object({role: memberRoleRefSchema})

/** `POST /v1/orgs/{org}/transfer-ownership`. */
export const transferOwnershipSchema = z.object({user: userRefSchema})

export const MEMBER_PAGE_MAX = 200

/** `GET /v1/orgs/{org}/members?role=&cursor=&limit=`; limit arrives as a string over HTTP. */
export const listMembersQuerySchema = z.object({
  role: memberRoleRefSchema.optional(),
  cursor: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int('must be a whole number').min(1, `must be between 1 and ${MEMBER_PAGE_MAX}`).max(MEMBER_PAGE_MAX, `must be between 1 and ${MEMBER_PAGE_MAX}`).optional(),
})

/** The organization (slug or id) an org-scoped call acts on. */
interface OrgScoped {
  org: string
}

export type AddMemberInput = OrgScoped & z.input<typeof addMemberSchema>
export type SetMemberRoleInput = OrgScoped & {user: string} & z.input<typeof setMemberRoleSchema>
export type RemoveMemberInput = OrgScoped & {user: string}
export type LeaveOrgInput = OrgScoped
export type TransferOwnershipInput = OrgScoped & z.input<typeof transferOwnershipSchema>
/** limit undefined: every member (the CLI); the daemon always passes one. */
export type ListMembersInput = OrgScoped & {role?: string; cursor?: string; limit?: number | string}
