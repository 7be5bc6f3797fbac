import {z} from 'zod'
import {memberRoleRefSchema} from '../access/member-schemas.js'
import {linkTokenSchema} from '../identity/link-token-guard.js'
import {emailSchema, passwordSchema, userNameSchema} from '../identity/user-schemas.js'

/** `POST /v1/orgs/{org}/invitations`. */
export const createInvitationSchema = z.object({email: emailSchema, role: memberRoleRefSchema})

/** An invitation by id (the path's `{id}`, or `invite resend|revoke <id>`). */
export const invitationIdSchema = z.string().trim().min(1, 'must not be empty').max(100)

/** `POST /v1/invitations/{token}/accept` without a signed-in user: the account to create. */
export const acceptInvitationSchema = z.object({name: userNameSchema.optional(), password: passwordSchema.max(4096).optional()})

export const invitationTokenSchema = linkTokenSchema

export type CreateInvitationInput = {org: string} & z.input<typeof createInvitationSchema>
/** `org` may be left out by operators (the CLI names an invitation by its id alone). */
export type InvitationRefInput = {org?: string; id: string}
export type AcceptInvitationInput = z.input<typeof acceptInvitationSchema>
