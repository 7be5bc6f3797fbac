import type {Request} from 'express'
import {z} from 'zod'
import type {Principal} from '../../src/access/principal.js'
import type {Core} from '../../src/core.js'
import {acceptInvitationSchema, createInvitationSchema, invitationIdSchema, invitationTokenSchema} from '../../src/invitations/invitation-schemas.js'
import {readBearerToken} from '../bearer-token.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {orgParams, orgRefSchema, requires} from './org-route-params.js'
import {orgResponse, userResponse} from './response-schemas.js'

const timestamp = z.string().describe('ISO-8601 UTC time')

export const invitationResponse = z.object({
  id: z.string(),
  org_id: z.string(),
  email: z.string(),
  role: z.string().describe('The role key the invitee gets'),
  status: z.enum(['pending', 'accepted', 'revoked', 'expired']).describe('pending past its expiry reads expired'),
  invited_by: z.object({type: z.string(), id: z.string().nullable(), name: z.string().nullable()}),
  created_at: timestamp,
  expires_at: timestamp,
  sent_at: timestamp.describe('When the newest link was mailed'),
  resend_count: z.number().int(),
  accepted_at: timestamp.nullable(),
  accepted_user_id: z.string().nullable(),
  revoked_at: timestamp.nullable(),
})

const issuedResponse = z.object({
  invitation: invitationResponse,
  accept_url: z.string().nullable().describe('The accept link: shown to platform principals only (tenants\' invitees get it by mail)'),
  token: z.string().nullable().describe('The link\'s token: shown to platform principals only, and only here'),
})

const invitationParams = z.object({org: orgRefSchema, id: invitationIdSchema.describe('The invitation id')})
const tokenParams = z.object({token: invitationTokenSchema.describe("The token of the invitation's link")})

const TOKEN_ERRORS =
  'A wrong, expired, used or revoked token is 422 auth.invalid_link_token (one answer for all); more than failed_attempts_per_minute of those from one IP within a minute are 429 auth.too_many_attempts with Retry-After.'

/**
 * Invitations: an organization's side (members.invite) and the invitee's (by the token of the
 * mailed link, no principal needed). The rules live in core.invitations.
 */
export function invitationRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/orgs/:org/invitations',
      summary: 'Invite an email address to join the organization with a role',
      description: requires(
        'members.invite',
        'The role must exist in the org and be one the caller could grant (role.grant_forbidden, permission.not_held). An accept link is mailed, valid invitation_ttl_seconds. The invitation takes a seat (409 org.seat_limit when none is left); an address that is a member is 409 member.exists, one with a pending invitation 409 invitation.exists (resend it).',
      ),
      tags: ['invitations'],
      auth: 'principal',
      params: orgParams,
      body: createInvitationSchema,
      responses: {201: {description: 'The invitation (the link is mailed)', schema: issuedResponse}},
      handle: async ({actor, params, body}) => ({status: 201, body: await core.invitations.invite(actor, {...body, org: params.org})}),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orgs/:org/invitations',
      summary: 'Pending invitations of the organization (not expired)',
      description: requires('members.invite', 'Oldest first.'),
      tags: ['invitations'],
      auth: 'principal',
      params: orgParams,
      responses: {200: {description: 'The pending invitations', schema: z.object({invitations: z.array(invitationResponse)})}},
      handle: async ({actor, params}) => ({body: {invitations: await core.invitations.listInvitations(actor, {org: params.org})}}),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/orgs/:org/invitations/:id/resend',
      summary: 'Mail a pending invitation again with a new link',
      description: requires(
        'members.invite',
        'The old link stops working and the expiry starts again. Only roles the caller could grant. An expired invitation takes a seat again (409 org.seat_limit). An accepted or revoked one is 409 invitation.not_pending; another org\'s id is 404 invitation.not_found.',
      ),
      tags: ['invitations'],
      auth: 'principal',
      params: invitationParams,
      responses: {200: {description: 'The invitation with its new expiry', schema: issuedResponse}},
      handle: async ({actor, params}) => ({body: await core.invitations.resendInvitation(actor, {org: params.org, id: params.id})}),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/orgs/:org/invitations/:id',
      summary: 'Revoke a pending invitation',
      description: requires('members.invite', 'Its link stops working and its seat is free. Only roles the caller could grant. An accepted one is 409 invitation.not_pending; another org\'s id is 404 invitation.not_found.'),
      tags: ['invitations'],
      auth: 'principal',
      params: invitationParams,
      responses: {204: {description: 'Revoked'}},
      async handle({actor, params}) {
        await core.invitations.revokeInvitation(actor, {org: params.org, id: params.id})
        return {status: 204}
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/invitations/:token',
      summary: 'What an invitation offers, by the token of its link',
      description: `No principal needed: the organization's name and slug, the role, the invited address, who invited and until when. ${TOKEN_ERRORS}`,
      tags: ['invitations'],
      rateLimit: 'auth',
      params: tokenParams,
      responses: {
        200: {
          description: 'The invitation',
          schema: z.object({org: z.object({name: z.string(), slug: z.string()}), role: z.string(), email: z.string(), invited_by: z.string().nullable(), expires_at: timestamp}),
        },
      },
      handle: async ({params, client}) => ({body: await core.invitations.showInvitation(client, params.token)}),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/invitations/:token/accept',
      summary: 'Accept an invitation: signed in, or creating the account',
      description: `With \`Authorization: Bearer <access token>\`, the signed-in user joins if their verified email is the invited one (403 invitation.email_mismatch; unverified: 403 auth.email_not_verified); an invalid token is 401. Without one, the body's {name, password} creates the account (the password policy applies: 422 password.too_weak), verified by the acceptance, and it joins; when an account has the address, 401 invitation.sign_in_required (sign in first). registration=closed refuses creating accounts (403 registration.closed). Works once: of concurrent accepts one joins. The org may be over a lowered seat limit (409 org.seat_limit). The new member logs in as usual. Signed in, send an empty object as the body. ${TOKEN_ERRORS}`,
      tags: ['invitations'],
      rateLimit: 'auth',
      params: tokenParams,
      body: acceptInvitationSchema,
      responses: {200: {description: 'Joined', schema: z.object({user: userResponse, org: orgResponse, role: z.string(), created_account: z.boolean()})}},
      async handle({params, body, client, request}) {
        const principal = await signedInUser(core, request)
        return {body: await core.invitations.acceptInvitation(client, params.token, {...body, principal})}
      },
    }),
  ]
}

/** The user behind an optional `Authorization: Bearer` access token (API keys are not users); null without the header. */
async function signedInUser(core: Core, request: Request): Promise<Principal | null> {
  const header = request.get('Authorization')
  if (header === undefined || header.trim() === '') return null
  const caller = await core.authenticator.authenticate(readBearerToken(request))
  return {kind: 'user', userId: caller.userId, sessionId: caller.sessionId, boundOrgId: caller.orgId, ...(caller.isOrgBindingRevoked ? {isOrgBindingRevoked: true} : {})}
}
