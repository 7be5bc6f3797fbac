import {z} from 'zod'
import {addMemberSchema, listMembersQuerySchema, setMemberRoleSchema} from '../../src/access/member-schemas.js'
import type {Core} from '../../src/core.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {memberParams, orgParams, pageLimitSchema, requires} from './org-route-params.js'
import {memberResponse, nextCursorField} from './response-schemas.js'

// The HTTP page size always has a bound (the service reads every member when none is given).
const listMembersQuery = listMembersQuerySchema.extend({limit: pageLimitSchema})

/**
 * Members of an organization. The grant rules (who may set which role, the last owner stays)
 * live in the member service; demotions and removals void the member's tokens bound to the org.
 */
export function memberRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/orgs/:org/members',
      summary: 'Members of an organization, a page at a time',
      description: requires('members.read', 'Ordered by when they joined.'),
      tags: ['members'],
      auth: 'principal',
      params: orgParams,
      query: listMembersQuery,
      responses: {200: {description: 'A page of members', schema: z.object({members: z.array(memberResponse), ...nextCursorField})}},
      async handle({actor, params, query}) {
        const page = await core.members.listMembers(actor, {...query, org: params.org})
        return {body: {members: page.items, nextCursor: page.nextCursor}}
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/orgs/:org/members',
      summary: 'Add a user to an organization directly (platform principals)',
      description: 'For operators and platform keys provisioning accounts (platform.required otherwise); tenants invite instead.',
      tags: ['members'],
      auth: 'principal',
      params: orgParams,
      body: addMemberSchema,
      responses: {201: {description: 'The new member', schema: memberResponse}},
      handle: async ({actor, params, body}) => ({status: 201, body: await core.members.addMember(actor, {...body, org: params.org})}),
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/orgs/:org/members/:user',
      summary: "Change a member's role",
      description: requires(
        'members.update_role',
        'Only members ranked below the caller, only to roles below the caller (owners may make owners: role.grant_forbidden otherwise); the last owner stays (member.last_owner). Tokens of the member bound to the org stop working; they log in or switch again.',
      ),
      tags: ['members'],
      auth: 'principal',
      params: memberParams,
      body: setMemberRoleSchema,
      responses: {200: {description: 'The member with their new role', schema: memberResponse}},
      handle: async ({actor, params, body}) => ({body: await core.members.setMemberRole(actor, {org: params.org, user: params.user, role: body.role})}),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/orgs/:org/members/:user',
      summary: 'Remove a member',
      description: requires('members.remove', 'Only members ranked below the caller (owners may remove owners); the last owner stays (member.last_owner). Their tokens bound to the org stop working.'),
      tags: ['members'],
      auth: 'principal',
      params: memberParams,
      responses: {204: {description: 'Removed'}},
      async handle({actor, params}) {
        await core.members.removeMember(actor, {org: params.org, user: params.user})
        return {status: 204}
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/orgs/:org/leave',
      summary: 'Leave an organization',
      description: 'For any member, with any of their tokens (no permission needed); the last owner cannot leave (member.last_owner).',
      tags: ['members'],
      auth: 'principal',
      params: orgParams,
      responses: {204: {description: 'Left'}},
      async handle({actor, params}) {
        await core.members.leaveOrg(actor, {org: params.org})
        return {status: 204}
      },
    }),
  ]
}
