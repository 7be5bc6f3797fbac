import type {ErrorCategory} from '../../src/errors/error-codes.js'

/** Exit codes by error category (sysexits-style), documented in the README. */
export const EXIT_CODES: Record<ErrorCategory, number> = {
  usage: 64,
  invalid: 65,
  not_found: 66,
  unavailable: 69,
  internal: 70,
  conflict: 73,
  forbidden: 77,
  unauthenticated: 77,
  integrity: 1,
  // EX_TEMPFAIL: some of the work committed; what stopped the rest is in the error's details.
  partial: 75,
}
