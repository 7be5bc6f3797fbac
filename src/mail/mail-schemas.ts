import {z} from 'zod'
import {emailSchema} from '../identity/user-schemas.js'

export const MAIL_STATUSES = ['pending', 'sent', 'failed'] as const

export const listMailsSchema = z.object({
  status: z.enum(MAIL_STATUSES).optional(),
  limit: z.coerce.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(100),
})

export const mailIdSchema = z.object({id: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters')})

export const testMailSchema = z.object({to: emailSchema})

/** A mail as `mail list` shows it: its envelope and delivery state, never its body. */
export interface MailSummary {
  id: string
  kind: string
  to: string
  status: (typeof MAIL_STATUSES)[number]
  attempts: number
  /** When the next attempt is due (pending mails only). */
  nextAttemptAt: string | null
  lastError: string | null
  createdAt: string
  sentAt: string | null
  messageId: string
}
