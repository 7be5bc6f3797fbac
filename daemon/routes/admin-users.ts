import {z} from 'zod'
import type {Core} from '../../src/core.js'
import {createUserSchema, userRefValueSchema} from '../../src/identity/user-schemas.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {userResponse} from './response-schemas.js'

const PLATFORM_ONLY = 'Platform principals only (a platform API key, or a platform-admin user); anyone else gets 403 platform.required.'

const userParams = z.object({user: userRefValueSchema.describe('The user id (or email)')})

/** Provisioning users over HTTP, for platform principals: create, disable, enable, end their sessions. */
export function adminUserRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/admin/users',
      summary: 'Create a user (without a password)',
      description: `The user signs in once a password or an invitation is set up for them. Raises user.email_taken. ${PLATFORM_ONLY}`,
      tags: ['admin'],
      auth: 'principal',
      body: createUserSchema.pick({email: true, name: true}),
      responses: {201: {description: 'The new user', schema: userResponse}},
      async handle({actor, body}) {
        const {user} = await core.users.createUser(actor, {email: body.email, name: body.name})
        return {status: 201, body: user}
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/admin/users/:user/disable',
      summary: 'Disable a user',
      description: `They can no longer log in; their sessions end and their access tokens are refused within 2 s everywhere. ${PLATFORM_ONLY}`,
      tags: ['admin'],
      auth: 'principal',
      params: userParams,
      responses: {200: {description: 'The user', schema: userResponse}},
      handle: async ({actor, params}) => ({body: await core.users.disableUser(actor, {user: params.user})}),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/admin/users/:user/enable',
      summary: 'Enable a disabled user again',
      description: PLATFORM_ONLY,
      tags: ['admin'],
      auth: 'principal',
      params: userParams,
      responses: {200: {description: 'The user', schema: userResponse}},
      handle: async ({actor, params}) => ({body: await core.users.enableUser(actor, {user: params.user})}),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/admin/users/:user/sessions',
      summary: 'End every session of a user',
      description: `Their access tokens are refused within 2 s everywhere. ${PLATFORM_ONLY}`,
      tags: ['admin'],
      auth: 'principal',
      params: userParams,
      responses: {200: {description: 'How many sessions ended', schema: z.object({revoked_sessions: z.number().int()})}},
      handle: async ({actor, params}) => ({body: {revokedSessions: await core.sessions.revokeAllSessionsOfUser(actor, {user: params.user})}}),
    }),
  ]
}
