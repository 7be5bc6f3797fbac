import {z} from 'zod'
import type {Core} from '../../src/core.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {orgParams, pageQueryFields, requires} from './org-route-params.js'
import {auditEventResponse, nextCursorField} from './response-schemas.js'

const auditQuery = z.object({
  action: z.string().trim().min(1).max(100).optional().describe('An exact action (`member.removed`) or a prefix ending in `.*` (`member.*`)'),
  actor: z.string().trim().min(1).max(320).optional().describe("The actor's id or name"),
  since: z.string().trim().min(1).max(64).optional().describe('An ISO time, or a duration back from now: 15m, 2h, 7d'),
  ...pageQueryFields,
})

/** An organization's audit log, newest first. */
export function orgAuditRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/orgs/:org/audit',
      summary: "An organization's audit events, newest first",
      description: requires('audit.read', 'Cursor pagination: pass `next_cursor` as `cursor` for older events.'),
      tags: ['audit'],
      auth: 'principal',
      params: orgParams,
      query: auditQuery,
      responses: {200: {description: 'A page of events', schema: z.object({events: z.array(auditEventResponse), ...nextCursorField})}},
      async handle({actor, params, query}) {
        const page = await core.audit.listOrgEvents(actor, {...query, org: params.org})
        return {body: {events: page.items, nextCursor: page.nextCursor}}
      },
    }),
  ]
}
