import {z} from 'zod'
import type {Core} from '../../src/core.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {NO_STORE_HEADERS} from './auth.js'
import {orgRefSchema, requires} from './org-route-params.js'

const timestamp = z.string().describe('ISO-8601 UTC time')

/** An endpoint as listed: never its secrets. */
export const webhookResponse = z.object({
  id: z.string(),
  org_id: z.string().nullable().describe('null for an instance-wide endpoint'),
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(z.string()).describe('Event types (audit actions), families (`member.*`) or `*`'),
  include_all_orgs: z.boolean().describe('Instance-wide endpoints: also every organization’s events'),
  disabled: z.boolean(),
  breaker: z.object({
    state: z.enum(['closed', 'open', 'half_open']),
    consecutive_failures: z.number().int(),
    opened_at: timestamp.nullable(),
    next_probe_at: timestamp.nullable().describe('Open: when one probe delivery may go'),
  }),
  previous_secret_expires_at: timestamp.nullable().describe('After a rotation: until then the old secret signs too'),
  created_at: timestamp,
  updated_at: timestamp,
})

const webhookWithSecretResponse = webhookResponse.extend({
  secret: z.string().describe('`whsec_…`: shown this once. Verify `webhook-signature` with it (Standard Webhooks).'),
})

export const webhookDeliveryResponse = z.object({
  id: z.string(),
  endpoint_id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  message_id: z.string().describe('The webhook-id header: the same on every attempt and replay'),
  status: z.enum(['pending', 'succeeded', 'failed']),
  attempts: z.number().int(),
  next_attempt_at: timestamp.nullable(),
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: timestamp,
  delivered_at: timestamp.nullable(),
})

const deliveryWithAttemptsResponse = webhookDeliveryResponse.extend({
  attempt_log: z.array(z.object({attempted_at: timestamp, duration_ms: z.number().int(), status_code: z.number().int().nullable(), error: z.string().nullable(), outcome: z.enum(['succeeded', 'failed'])})),
})

const testResultResponse = z.object({
  id: z.string().describe('The test delivery'),
  message_id: z.string(),
  endpoint_id: z.string(),
  event_type: z.string(),
  attempts: z.number().int(),
  is_probe: z.boolean(),
  status: z.enum(['succeeded', 'retry', 'failed']),
  status_code: z.number().int().nullable(),
  duration_ms: z.number().int(),
  error: z.string().optional(),
  next_attempt_at: timestamp.optional(),
})

// Bodies in the services' casing (the daemon converts the wire's snake_case); the service validates again.
const eventsField = z.array(z.string().max(100)).max(100).describe('Event types (audit actions), families such as `member.*`, or `*`')
const urlField = z.string().max(2000).describe('http(s) URL; private and loopback addresses are refused unless webhook_allow_private')
const createBody = z.object({url: urlField, events: eventsField, description: z.string().max(200).optional()})
const updateBody = z.object({url: urlField.optional(), events: eventsField.optional(), description: z.string().max(200).nullable().optional(), disabled: z.boolean().optional()})
const instanceCreateBody = createBody.extend({includeAllOrgs: z.boolean().optional().describe('Also receive every organization’s events')})
const instanceUpdateBody = updateBody.extend({includeAllOrgs: z.boolean().optional()})
const rotateQuery = z.object({overlapSeconds: z.coerce.number().int().min(0).max(604_800).optional().describe('How long the old secret keeps signing, in seconds (default 86400)')})
const deliveriesQuery = z.object({status: z.enum(['pending', 'succeeded', 'failed']).optional(), limit: z.coerce.number().int().min(1).max(200).default(50)})

const idField = z.string().trim().min(1).max(200)

/**
 * Outgoing webhooks: an organization's under /v1/orgs/{org}/webhooks (webhooks.manage), the
 * instance's under /v1/webhooks (platform keys and platform admins). Another organization's
 * endpoints and deliveries answer webhook.not_found / webhook.delivery_not_found.
 */
export function webhookRoutes({core}: {core: Core}): AnyRoute[] {
  return [...scopedRoutes(core, 'org'), ...scopedRoutes(core, 'instance')]
}

function scopedRoutes(core: Core, scope: 'org' | 'instance'): AnyRoute[] {
  const isOrg = scope === 'org'
  const base = isOrg ? '/v1/orgs/:org/webhooks' : '/v1/webhooks'
  const orgField = isOrg ? {org: orgRefSchema} : {}
  const listParams = z.object(orgField)
  const idParams = z.object({...orgField, id: idField.describe('The webhook id')})
  const deliveryParams = z.object({...orgField, id: idField.describe('The webhook id'), delivery: idField.describe('The delivery id')})
  const describe = (text: string) => (isOrg ? requires('webhooks.manage', text) : `Instance-wide endpoints: platform keys and platform admins only (platform.required). ${text}`)
  const tags = ['webhooks']
  const orgOf = (params: {org?: unknown}) => (isOrg ? (params.org as string) : undefined)
  const what = isOrg ? "an organization's" : 'an instance-wide'
  return [
    defineRoute({
      method: 'post',
      path: base,
      summary: `Create ${what} webhook endpoint`,
      description: describe(`${isOrg ? 'Also requires `audit.read` (the endpoint reads the audit log). ' : ''}The answer carries the \`whsec_\` secret once. The URL must not point at a private, loopback or link-local address, and its host must resolve within 5 s (422 webhook.url_refused). At most webhook_max_endpoints_per_org endpoints (409 webhook.limit_reached).`),
      tags,
      auth: 'principal',
      params: listParams,
      body: isOrg ? createBody : instanceCreateBody,
      responses: {201: {description: 'The endpoint with its secret', schema: webhookWithSecretResponse}},
      async handle({actor, params, body}) {
        const {webhook, secret} = await core.webhooks.createWebhook(actor, {...body, org: orgOf(params)})
        return {status: 201, body: {...webhook, secret}, headers: NO_STORE_HEADERS}
      },
    }),
    defineRoute({
      method: 'get',
      path: base,
      summary: `List ${what.replace(/^an? /, '')} webhook endpoints`,
      description: describe('Oldest first.'),
      tags,
      auth: 'principal',
      params: listParams,
      responses: {200: {description: 'Endpoints', schema: z.object({webhooks: z.array(webhookResponse)})}},
      handle: async ({actor, params}) => ({body: {webhooks: await core.webhooks.listWebhooks(actor, {org: orgOf(params)})}}),
    }),
    defineRoute({
      method: 'get',
      path: `${base}/:id`,
      summary: 'A webhook endpoint',
      description: describe('With its circuit breaker’s state.'),
      tags,
      auth: 'principal',
      params: idParams,
      responses: {200: {description: 'The endpoint', schema: webhookResponse}},
      handle: async ({actor, params}) => ({body: await core.webhooks.getWebhook(actor, {org: orgOf(params), id: params.id})}),
    }),
    defineRoute({
      method: 'patch',
      path: `${base}/:id`,
      summary: 'Change a webhook endpoint',
      description: describe(`URL, events, description, disabled (enabling again closes the breaker).${isOrg ? ' Changing the URL or the events also requires `audit.read`.' : ''}`),
      tags,
      auth: 'principal',
      params: idParams,
      body: isOrg ? updateBody : instanceUpdateBody,
      responses: {200: {description: 'The endpoint', schema: webhookResponse}},
      handle: async ({actor, params, body}) => ({body: await core.webhooks.updateWebhook(actor, {...body, org: orgOf(params), id: params.id})}),
    }),
    defineRoute({
      method: 'delete',
      path: `${base}/:id`,
      summary: 'Delete a webhook endpoint',
      description: describe('Its deliveries and their log go with it.'),
      tags,
      auth: 'principal',
      params: idParams,
      responses: {204: {description: 'Deleted'}},
      async handle({actor, params}) {
        await core.webhooks.deleteWebhook(actor, {org: orgOf(params), id: params.id})
        return {status: 204}
      },
    }),
    defineRoute({
      method: 'post',
      path: `${base}/:id/rotate-secret`,
      summary: 'Rotate a webhook endpoint’s secret',
      description: describe('The old secret keeps signing beside the new one for `overlap_seconds` (query; default a day): both signatures go in webhook-signature.'),
      tags,
      auth: 'principal',
      params: idParams,
      query: rotateQuery,
      responses: {200: {description: 'The endpoint with its new secret', schema: webhookWithSecretResponse}},
      async handle({actor, params, query}) {
        const {webhook, secret} = await core.webhooks.rotateSecret(actor, {org: orgOf(params), id: params.id, overlapSeconds: query.overlapSeconds})
        return {body: {...webhook, secret}, headers: NO_STORE_HEADERS}
      },
    }),
    defineRoute({
      method: 'post',
      path: `${base}/:id/test`,
      summary: 'Send a webhook.test message now',
      description: describe('Sent whatever the breaker says; the answer says how it went (a failed test is retried like any delivery).'),
      tags,
      auth: 'principal',
      params: idParams,
      responses: {200: {description: 'The outcome of the attempt', schema: testResultResponse}},
      handle: async ({actor, params}) => ({body: await core.webhooks.testWebhook(actor, {org: orgOf(params), id: params.id})}),
    }),
    defineRoute({
      method: 'get',
      path: `${base}/:id/deliveries`,
      summary: 'The delivery log of a webhook endpoint',
      description: describe('Newest first: status, attempts, the last status code and error.'),
      tags,
      auth: 'principal',
      params: idParams,
      query: deliveriesQuery,
      responses: {200: {description: 'Deliveries', schema: z.object({deliveries: z.array(webhookDeliveryResponse)})}},
      handle: async ({actor, params, query}) => ({body: {deliveries: await core.webhooks.listDeliveries(actor, {org: orgOf(params), id: params.id, status: query.status, limit: query.limit})}}),
    }),
    defineRoute({
      method: 'get',
      path: `${base}/:id/deliveries/:delivery`,
      summary: 'One delivery with every attempt',
      description: describe('Each attempt’s time, duration, status code or error.'),
      tags,
      auth: 'principal',
      params: deliveryParams,
      responses: {200: {description: 'The delivery', schema: deliveryWithAttemptsResponse}},
      handle: async ({actor, params}) => ({body: await core.webhooks.getDelivery(actor, {org: orgOf(params), id: params.id, deliveryId: params.delivery})}),
    }),
    defineRoute({
      method: 'post',
      path: `${base}/:id/deliveries/:delivery/replay`,
      summary: 'Send a delivery again',
      description: describe('A succeeded or failed delivery goes out again with the same webhook-id; a pending one is webhook.delivery_pending.'),
      tags,
      auth: 'principal',
      params: deliveryParams,
      responses: {200: {description: 'The delivery, pending again', schema: webhookDeliveryResponse}},
      handle: async ({actor, params}) => ({body: await core.webhooks.replayDelivery(actor, {org: orgOf(params), id: params.id, deliveryId: params.delivery})}),
    }),
  ]
}
