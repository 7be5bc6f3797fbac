import {z} from 'zod'
import type {Core} from '../../src/core.js'
import {setOrgLimitsSchema} from '../../src/tenancy/org-limits-service.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {orgParams, requires} from './org-route-params.js'

const limit = z.number().int().nullable().describe('null: unlimited')
const override = z.union([z.number().int(), z.literal('unlimited')]).nullable().describe("null: the tier's default applies")

export const orgLimitsResponse = z.object({
  org: z.string(),
  tier: z.string(),
  effective: z.object({seats: limit, rpm: limit}).describe('What binds the organization now'),
  tier_defaults: z.object({seats: limit, rpm: limit}),
  overrides: z.object({seats: override, rpm: override}),
  seats_used: z.object({members: z.number().int(), pending_invitations: z.number().int(), total: z.number().int()}),
})

/** An organization's seat and request-rate limits: read by its members, overridden by platform principals. */
export function orgLimitRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/orgs/:org/limits',
      summary: "The organization's limits, its overrides and the seats in use",
      description: requires('org.read', 'Seats are members plus pending invitations not yet expired.'),
      tags: ['orgs'],
      auth: 'principal',
      params: orgParams,
      responses: {200: {description: 'The limits', schema: orgLimitsResponse}},
      handle: async ({actor, params}) => ({body: await core.orgLimits.showLimits(actor, {org: params.org})}),
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/orgs/:org/limits',
      summary: "Override the organization's seats or requests per minute (platform principals)",
      description:
        'For operators, platform keys and platform admins (403 platform.required otherwise). Each of seats and rpm: a whole number ≥ 0, "unlimited", or null for the tier\'s default; a field left out stays. An org over a lowered seat limit keeps its members but cannot grow. Running daemons apply a new rpm within the rate limiter\'s cache time.',
      tags: ['orgs'],
      auth: 'principal',
      params: orgParams,
      body: setOrgLimitsSchema,
      responses: {200: {description: 'The limits now', schema: orgLimitsResponse}},
      handle: async ({actor, params, body}) => ({body: await core.orgLimits.setLimits(actor, {...body, org: params.org})}),
    }),
  ]
}
