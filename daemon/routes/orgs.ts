import {z} from 'zod'
import {transferOwnershipSchema} from '../../src/access/member-schemas.js'
import type {Core} from '../../src/core.js'
import {createOrgSchema, updateOrgSchema} from '../../src/tenancy/org-schemas.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {orgParams, requires} from './org-route-params.js'
import {memberResponse, orgAccessResponse, orgResponse, orgSummaryResponse} from './response-schemas.js'

/**
 * Organizations themselves: create, list, read, rename, soft delete, restore, transfer
 * ownership, and the caller's standing in one. Thin: every rule (who may, what is audited)
 * is the org service's; a route passes the actor and the validated input straight through.
 */
export function orgRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/orgs',
      summary: 'Create an organization; the caller becomes its owner',
      description:
        'Any user may create organizations unless the operator turned `allow_user_org_creation` off (org.creation_disabled). ' +
        '`tier` and `owner` are for platform principals only (platform.required); an organization API key may not create organizations. ' +
        'With `if_not_exists`, an existing slug answers 200 with that organization.',
      tags: ['orgs'],
      auth: 'principal',
      body: createOrgSchema,
      responses: {201: {description: 'The new organization', schema: orgResponse}, 200: {description: 'It already existed (if_not_exists)', schema: orgResponse}},
      async handle({actor, body}) {
        const {org, created} = await core.orgs.createOrg(actor, body)
        return {status: created ? 201 : 200, body: org}
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orgs',
      summary: "The caller's organizations, with their role in each",
      description: 'A user sees the live organizations they belong to; a platform principal sees every organization.',
      tags: ['orgs'],
      auth: 'principal',
      responses: {200: {description: 'Organizations', schema: z.object({orgs: z.array(orgSummaryResponse)})}},
      handle: async ({actor}) => ({body: {orgs: await core.orgs.listOrgs(actor, {})}}),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orgs/:org',
      summary: 'One organization',
      description: requires('org.read'),
      tags: ['orgs'],
      auth: 'principal',
      params: orgParams,
      responses: {200: {description: 'The organization', schema: orgSummaryResponse}},
      handle: async ({actor, params}) => ({body: await core.orgs.showOrg(actor, {org: params.org})}),
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/orgs/:org',
      summary: 'Rename an organization or require 2FA of its members (platform principals: also tier and domain)',
      description: requires(
        'org.update',
        '`require_2fa`: a member without 2FA is then refused at login into the organization and at switch-org (auth.mfa_enrollment_required). `tier` and `domain` are set by platform principals only (platform.required); a domain is unique (org.domain_taken), null clears it.',
      ),
      tags: ['orgs'],
      auth: 'principal',
      params: orgParams,
      body: updateOrgSchema,
      responses: {200: {description: 'The organization as it is now', schema: orgResponse}},
      handle: async ({actor, params, body}) => ({body: await core.orgs.updateOrg(actor, {...body, org: params.org})}),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/orgs/:org',
      summary: 'Soft-delete an organization',
      description: requires(
        'org.delete',
        'Answers 200 with the organization (its `deleted_at` set), so a client can offer an undo. From then on it answers 404 to its members, every token bound to it stops working, and its owners may restore it with any of their tokens.',
      ),
      tags: ['orgs'],
      auth: 'principal',
      params: orgParams,
      responses: {200: {description: 'The deleted organization', schema: orgResponse}},
      handle: async ({actor, params}) => ({body: await core.orgs.deleteOrg(actor, {org: params.org})}),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/orgs/:org/restore',
      summary: 'Restore a soft-deleted organization',
      description: 'For its owners, with any of their tokens (bound to it or not), and for platform principals.',
      tags: ['orgs'],
      auth: 'principal',
      params: orgParams,
      responses: {200: {description: 'The restored organization', schema: orgResponse}},
      handle: async ({actor, params}) => ({body: await core.orgs.restoreOrg(actor, {org: params.org})}),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/orgs/:org/transfer-ownership',
      summary: 'Make another member the owner; the previous owner becomes admin',
      description: requires('members.update_role', 'The caller must also be an owner (role.grant_forbidden otherwise), or a platform principal, whose transfer demotes every other owner. The new owner must already be a member.'),
      tags: ['orgs'],
      auth: 'principal',
      params: orgParams,
      body: transferOwnershipSchema,
      responses: {200: {description: 'The new owner', schema: memberResponse}},
      handle: async ({actor, params, body}) => ({body: await core.members.transferOwnership(actor, {org: params.org, user: body.user})}),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orgs/:org/me',
      summary: "The caller's role and effective permissions in an organization",
      description: 'For any member (no permission needed), and platform principals. Read now, not from the token: it reflects a demotion at once.',
      tags: ['orgs'],
      auth: 'principal',
      params: orgParams,
      responses: {200: {description: 'The organization, the role and the permissions', schema: orgAccessResponse}},
      handle: async ({actor, params}) => ({body: await core.orgs.describeAccess(actor, {org: params.org})}),
    }),
  ]
}
