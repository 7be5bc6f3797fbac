import type {z} from 'zod'
import {DomainError} from '../errors/domain-error.js'

/**
 * Parses input with a schema and turns a failure into one `validation.failed` DomainError
 * whose message names the first problem and whose details list every problem by field.
 */
export function validateInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const problems = result.error.issues.map((issue) => ({
    // Fields are named as in the JSON contract (snake_case), which is also how CLI flags read.
    field: issue.path.map((part) => String(part).replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)).join('.') || null,
    message: issue.message,
  }))
  const first = problems[0]
  const message = first?.field ? `Invalid ${first.field}: ${first.message}` : `Invalid input: ${first?.message ?? 'unknown problem'}`
  throw new DomainError('validation.failed', message, {problems})
}
