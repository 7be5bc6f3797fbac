import {z} from 'zod'
import type {Core} from '../../src/core.js'
import {orgFlagSchema} from '../../src/flags/flag-schemas.js'
import type {FlagValue} from '../../src/flags/org-flag-reader.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {orgParams, requires} from './org-route-params.js'
import {flagValueResponse} from './response-schemas.js'

/**
 * Feature flags as an app reads them at run time: every flag evaluated for one organization.
 * Definitions and overrides are the operator's (CLI, platform principals), not routes here.
 */
export function orgFlagRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/orgs/:org/flags',
      summary: 'Every feature flag, evaluated for an organization',
      description: requires('flags.read', '`reason` says what decided: an override for this org, the rollout percentage, or the default.'),
      tags: ['flags'],
      auth: 'principal',
      params: orgParams,
      responses: {200: {description: 'Flag values, by key', schema: z.object({flags: z.array(flagValueResponse)})}},
      handle: async ({actor, params}) => ({body: {flags: (await core.flags.evaluateFlagsForOrg(actor, {org: params.org})).map(publicValue)}}),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orgs/:org/flags/:key',
      summary: 'One feature flag, evaluated for an organization',
      description: requires('flags.read', 'An unknown flag is 404 flag.not_found.'),
      tags: ['flags'],
      auth: 'principal',
      params: orgFlagSchema,
      responses: {200: {description: 'The flag value', schema: flagValueResponse}},
      handle: async ({actor, params}) => ({body: publicValue(await core.flags.evaluateFlagForOrg(actor, {org: params.org, key: params.key}))}),
    }),
  ]
}

/** What an app needs to branch on; the org and the rollout internals stay out of the answer. */
function publicValue(value: FlagValue): {key: string; enabled: boolean; reason: FlagValue['reason']} {
  return {key: value.flag, enabled: value.enabled, reason: value.reason}
}
