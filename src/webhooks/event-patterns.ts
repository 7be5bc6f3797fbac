import {AUDIT_ACTIONS} from '../audit/audit-actions.js'

/** The type of the message `webhook test` sends; no audit action has it. */
export const WEBHOOK_TEST_EVENT_TYPE = 'webhook.test'

/**
 * Whether an event type matches one of an endpoint's patterns: an exact type (`member.added`),
 * a family (`member.*`: every type starting with `member.`), or `*` (everything).
 */
export function matchesEventPatterns(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) => pattern === '*' || pattern === type || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))))
}

/** Null when the pattern names an audit action or a family with at least one, else why not. */
export function eventPatternProblem(pattern: string): string | null {
  if (pattern === '*') return null
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -1)
    return AUDIT_ACTIONS.some((action) => action.startsWith(prefix)) ? null : `no event type starts with "${prefix}"`
  }
  return (AUDIT_ACTIONS as readonly string[]).includes(pattern) ? null : `"${pattern}" is not an event type (see the README's list)`
}
