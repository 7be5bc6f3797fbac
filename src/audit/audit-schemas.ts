import {z} from 'zod'

/** The largest page of GET /v1/orgs/{org}/audit, and the page when none is asked for. */
export const ORG_AUDIT_LIMIT_MAX = 200
export const ORG_AUDIT_LIMIT_DEFAULT = 50

/**
 * GET /v1/orgs/{org}/audit?action=&actor=&since=&cursor=&limit= (query strings: limit is
 * coerced). `cursor` is the `next_cursor` of the previous page: the seq of its last event.
 */
export const orgAuditQuerySchema = z.object({
  action: z
    .string()
    .trim()
    .max(100)
    .regex(/^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$/, 'must be an action (org.created) or a family (org.*)')
    .optional()
    .describe('An action (`org.created`) or a family (`member.*`)'),
  actor: z.string().trim().min(1).max(320).optional().describe("The actor's id or name"),
  since: z.string().trim().min(1).max(100).optional().describe('Only events at or after this ISO time (or a duration back: 15m, 2h, 7d)'),
  cursor: z.string().regex(/^\d{1,15}$/, 'must be the next_cursor of the previous page').optional().describe('`next_cursor` of the previous page'),
  limit: z.coerce
    .number()
    .int('must be a whole number')
    .min(1, `must be between 1 and ${ORG_AUDIT_LIMIT_MAX}`)
    .max(ORG_AUDIT_LIMIT_MAX, `must be between 1 and ${ORG_AUDIT_LIMIT_MAX}`)
    .default(ORG_AUDIT_LIMIT_DEFAULT)
    .describe(`Page size (default ${ORG_AUDIT_LIMIT_DEFAULT}, at most ${ORG_AUDIT_LIMIT_MAX})`),
})
export type OrgAuditQuery = z.input<typeof orgAuditQuerySchema>

/**
 * GET /v1/orgs/{org}/audit/stream?last_event_id= — where to resume: the seq of the last event
 * received (the `Last-Event-ID` header carries the same and wins). Absent: only new events.
 */
export const orgAuditStreamQuerySchema = z.object({
  lastEventId: z.string().regex(/^\d{1,15}$/, 'must be the id of an event received before').optional().describe('The `id` of the last event received (the `Last-Event-ID` header takes precedence)'),
})
