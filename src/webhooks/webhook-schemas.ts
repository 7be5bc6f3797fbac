import {z} from 'zod'
import {eventPatternProblem} from './event-patterns.js'

const orgRefSchema = z.string().trim().min(1, 'must not be empty').max(200)
const idSchema = z.string().trim().min(1, 'must not be empty').max(200)

/** An http(s) URL without credentials; where it points is the SSRF guard's question. */
export const webhookUrlSchema = z
  .string()
  .trim()
  .max(2000, 'must be at most 2000 characters')
  .refine((value) => URL.canParse(value), 'must be an absolute http or https URL')
  .refine((value) => !URL.canParse(value) || ['http:', 'https:'].includes(new URL(value).protocol), 'must be an http or https URL')
  .refine((value) => !URL.canParse(value) || (new URL(value).username === '' && new URL(value).password === ''), 'must not carry a user name or password')

/** Event types (audit actions), families (`member.*`) or `*`. */
export const eventPatternsSchema = z
  .array(z.string().trim().min(1, 'must not be empty').max(100))
  .min(1, 'give at least one event type or family')
  .max(100)
  .superRefine((patterns, context) => {
    patterns.forEach((pattern, index) => {
      const problem = eventPatternProblem(pattern)
      if (problem) context.addIssue({code: 'custom', message: problem, path: [index]})
    })
  })
  .transform((patterns) => [...new Set(patterns)].sort())

const descriptionSchema = z.string().trim().max(200, 'must be at most 200 characters')

/** `org` absent: an instance-wide endpoint (platform principals). */
export const createWebhookSchema = z.object({
  org: orgRefSchema.optional(),
  url: webhookUrlSchema,
  events: eventPatternsSchema,
  description: descriptionSchema.optional(),
  includeAllOrgs: z.boolean().optional(),
})
export type CreateWebhookInput = z.input<typeof createWebhookSchema>

export const updateWebhookSchema = z.object({
  org: orgRefSchema.optional(),
  id: idSchema,
  url: webhookUrlSchema.optional(),
  events: eventPatternsSchema.optional(),
  description: descriptionSchema.nullable().optional(),
  includeAllOrgs: z.boolean().optional(),
  disabled: z.boolean().optional(),
})
export type UpdateWebhookInput = z.input<typeof updateWebhookSchema>

export const webhookRefSchema = z.object({org: orgRefSchema.optional(), id: idSchema})
export type WebhookRefInput = z.input<typeof webhookRefSchema>

export const listWebhooksSchema = z.object({org: orgRefSchema.optional()})

export const listDeliveriesSchema = z.object({
  org: orgRefSchema.optional(),
  id: idSchema,
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
})
export type ListDeliveriesInput = z.input<typeof listDeliveriesSchema>

/** `id`, when given: the endpoint the delivery must belong to. */
export const deliveryRefSchema = z.object({org: orgRefSchema.optional(), id: idSchema.optional(), deliveryId: idSchema})
export type DeliveryRefInput = z.input<typeof deliveryRefSchema>

/** How long the old secret keeps signing after a rotation, in seconds (default a day, 0: not at all). */
export const rotateSecretSchema = z.object({
  org: orgRefSchema.optional(),
  id: idSchema,
  overlapSeconds: z.coerce.number().int().min(0).max(7 * 86_400).default(86_400),
})
export type RotateSecretInput = z.input<typeof rotateSecretSchema>
