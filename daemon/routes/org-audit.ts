import {z} from 'zod'
import {orgAuditQuerySchema} from '../../src/audit/audit-schemas.js'
import type {Core} from '../../src/core.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {orgParams, requires} from './org-route-params.js'
import {auditEventResponse, nextCursorField} from './response-schemas.js'

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
      query: orgAuditQuerySchema,
      responses: {200: {description: 'A page of events', schema: z.object({events: z.array(auditEventResponse), ...nextCursorField})}},
      async handle({actor, params, query}) {
        const page = await core.audit.listOrgEvents(actor, {...query, org: params.org})
        return {body: {events: page.items, nextCursor: page.nextCursor}}
      },
    }),
  ]
}
