import {categoryOf, type ErrorCategory, type ErrorCode} from './error-codes.js'

/**
 * An expected failure of a rule or of input. Its message is safe to show to the caller:
 * it never contains secrets, tokens or password material.
 */
export class DomainError extends Error {
  readonly code: ErrorCode
  readonly category: ErrorCategory
  readonly details: unknown

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message)
    this.name = 'DomainError'
    this.code = code
    this.category = categoryOf(code)
    this.details = details
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError
}
