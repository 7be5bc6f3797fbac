import {z} from 'zod'
import {createRoleSchema, updateRoleSchema} from '../../src/access/role-schemas.js'
import type {Core} from '../../src/core.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {orgParams, requires, roleParams} from './org-route-params.js'
import {permissionResponse, roleResponse, roleSummaryResponse} from './response-schemas.js'

const GRANT_RULES =
  'A custom role ranks below the caller unless the caller is an owner (role.grant_forbidden), and holds only permissions the caller holds (permission.not_held).'

/** Built-in and custom roles of an organization, and the permission catalog they are made of. */
export function roleRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/permissions',
      summary: 'The permission catalog',
      description: 'Public: the permissions roles and API keys are made of, the same for every organization.',
      tags: ['roles'],
      responses: {200: {description: 'Every permission', schema: z.object({permissions: z.array(permissionResponse)})}},
      handle: async () => ({body: {permissions: await core.roles.listPermissions()}}),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orgs/:org/roles',
      summary: 'The roles of an organization: built-in and custom',
      description: requires('roles.read', 'Highest level first.'),
      tags: ['roles'],
      auth: 'principal',
      params: orgParams,
      responses: {200: {description: 'Roles', schema: z.object({roles: z.array(roleSummaryResponse)})}},
      handle: async ({actor, params}) => ({body: {roles: await core.roles.listRoles(actor, {org: params.org})}}),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/orgs/:org/roles',
      summary: 'Create a custom role',
      description: requires('roles.manage', GRANT_RULES),
      tags: ['roles'],
      auth: 'principal',
      params: orgParams,
      body: createRoleSchema,
      responses: {201: {description: 'The new role', schema: roleResponse}},
      handle: async ({actor, params, body}) => ({status: 201, body: await core.roles.createRole(actor, {...body, org: params.org})}),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orgs/:org/roles/:role',
      summary: 'One role',
      description: requires('roles.read'),
      tags: ['roles'],
      auth: 'principal',
      params: roleParams,
      responses: {200: {description: 'The role', schema: roleSummaryResponse}},
      handle: async ({actor, params}) => ({body: await core.roles.showRole(actor, {org: params.org, role: params.role})}),
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/orgs/:org/roles/:role',
      summary: 'Change a custom role: name, permissions or level',
      description: requires('roles.manage', `Built-in roles cannot change (role.builtin_immutable); the role edited must rank below the caller unless the caller is an owner. ${GRANT_RULES}`),
      tags: ['roles'],
      auth: 'principal',
      params: roleParams,
      body: updateRoleSchema,
      responses: {200: {description: 'The role as it is now', schema: roleResponse}},
      handle: async ({actor, params, body}) => ({body: await core.roles.updateRole(actor, {...body, org: params.org, role: params.role})}),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/orgs/:org/roles/:role',
      summary: 'Delete a custom role',
      description: requires('roles.manage', 'Refused while members hold it (role.in_use); built-in roles stay (role.builtin_immutable).'),
      tags: ['roles'],
      auth: 'principal',
      params: roleParams,
      responses: {204: {description: 'Deleted'}},
      async handle({actor, params}) {
        await core.roles.deleteRole(actor, {org: params.org, role: params.role})
        return {status: 204}
      },
    }),
  ]
}
