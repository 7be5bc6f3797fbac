import {DomainError} from '../errors/domain-error.js'
import {isStorableTime} from '../shared/storable-time.js'

const UNIT_MILLISECONDS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000}

/**
 * Reads a "since" value: an ISO-8601 time, or a duration back from `now` such as 15m, 2h, 7d
 * (units s, m, h, d, w). Returns an ISO time. Raises validation.failed.
 */
export function parseSince(value: string, now: Date): string {
  const trimmed = value.trim()
  const relative = /^(\d{1,6})([smhdw])$/.exec(trimmed)
  if (relative) {
    const time = new Date(now.getTime() - Number(relative[1]) * UNIT_MILLISECONDS[relative[2]!]!)
    if (isStorableTime(time)) return time.toISOString()
  } else if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) {
    const time = new Date(trimmed)
    if (isStorableTime(time)) return time.toISOString()
  }
  throw new DomainError('validation.failed', `Invalid since: "${value}" is neither an ISO time nor a duration like 15m, 2h, 7d`, {problems: [{field: 'since', message: 'must be an ISO time or a duration like 15m, 2h, 7d'}]})
}

