import {z} from 'zod'
import type {RequestOrigin} from '../access/principal.js'
import {DomainError} from '../errors/domain-error.js'
import {assertFailureBudget, recordAttempt, type AttemptKind} from '../security/attempt-log.js'
import type {ServiceDeps} from '../shared/service-deps.js'

/** A token from a mailed link, as the product's page posts it. */
export const linkTokenSchema = z.string().trim().min(1, 'must not be empty').max(512, 'must be at most 512 characters')

/** Wrong, expired, used or voided: one answer, so a guesser learns nothing about which. */
export function invalidLinkToken(): DomainError {
  return new DomainError('auth.invalid_link_token', 'The link is invalid or has expired; ask for a new one')
}

export type LinkTokenGuard = ReturnType<typeof createLinkTokenGuard>

/**
 * The failure budget of mailed-link tokens: per client IP, at most failed_attempts_per_minute
 * wrong tokens a minute (per kind), then 429 auth.too_many_attempts with Retry-After. Every
 * attempt is recorded in the attempt log (outcome success, failure or throttled).
 */
export function createLinkTokenGuard(deps: ServiceDeps & {failedAttemptsPerMinute: number}) {
  const {db} = deps
  const record = (kind: AttemptKind, origin: RequestOrigin, outcome: 'success' | 'failure' | 'throttled', userId: string | null = null) =>
    recordAttempt(db, deps, {kind, identifierHash: null, userId, origin, outcome})

  return {
    /** Raises auth.too_many_attempts when this IP's wrong tokens of `kind` used up the minute's budget. */
    async assertBudget(kind: AttemptKind, origin: RequestOrigin): Promise<void> {
      try {
        await assertFailureBudget(db, deps, {kind, ip: origin.ip ?? null, limit: deps.failedAttemptsPerMinute, windowSeconds: 60})
      } catch (error) {
        await record(kind, origin, 'throttled')
        throw error
      }
    },
    /** Counts a wrong token against the IP and raises auth.invalid_link_token. */
    async refuse(kind: AttemptKind, origin: RequestOrigin): Promise<never> {
      await record(kind, origin, 'failure')
      throw invalidLinkToken()
    },
    recordSuccess: (kind: AttemptKind, origin: RequestOrigin, userId: string) => record(kind, origin, 'success', userId),
  }
}
