/**
 * A token bucket kept as its deficit: how many tokens are missing from a full bucket, at a
 * time. A bucket that refilled completely is the same as no bucket, so idle buckets can be
 * dropped without changing any answer. Pure: the caller passes the time.
 */
export interface BucketState {
  /** Tokens missing from a full bucket at `at`; may exceed the capacity when others' use was charged (debt). */
  deficit: number
  /** Milliseconds since the epoch. */
  at: number
}

/** A limit of `perMinute` requests: a bucket of that many tokens, refilled evenly over a minute. */
export interface BucketLimit {
  perMinute: number
}

export interface TakeResult {
  isAllowed: boolean
  /** The bucket after the attempt (unchanged when refused, apart from the refill). */
  state: BucketState
  /** Whole tokens left after this request. */
  remaining: number
  /** Seconds until the bucket is full again. */
  resetSeconds: number
  /** When refused: whole seconds until one token is back. */
  retryAfterSeconds: number
}

const MINUTE_MS = 60_000

/** The deficit at `now`: the refill since `state.at` paid back (never below zero; a clock going back refills nothing). */
export function deficitAt(state: BucketState | undefined, limit: BucketLimit, now: number): number {
  if (!state) return 0
  const elapsed = Math.max(0, now - state.at)
  return Math.max(0, state.deficit - (elapsed * limit.perMinute) / MINUTE_MS)
}

/** Takes one token if there is one. */
export function takeToken(state: BucketState | undefined, limit: BucketLimit, now: number): TakeResult {
  const deficit = deficitAt(state, limit, now)
  const capacity = limit.perMinute
  if (deficit + 1 <= capacity) {
    const next = {deficit: deficit + 1, at: now}
    return {isAllowed: true, state: next, remaining: Math.floor(capacity - next.deficit), resetSeconds: secondsToRefill(next.deficit, limit), retryAfterSeconds: 0}
  }
  return {
    isAllowed: false,
    state: {deficit, at: now},
    remaining: 0,
    resetSeconds: secondsToRefill(deficit, limit),
    retryAfterSeconds: Math.max(1, secondsToRefill(deficit + 1 - capacity, limit)),
  }
}

/**
 * Charges tokens spent elsewhere (other daemons' admitted requests): the deficit grows, up to
 * `maxDebtMinutes` full buckets, so a large overshoot elsewhere is paid back but never locks
 * a key out for longer than that.
 */
export function chargeTokens(state: BucketState | undefined, limit: BucketLimit, tokens: number, now: number, maxDebtMinutes = 1): BucketState {
  const deficit = deficitAt(state, limit, now)
  return {deficit: Math.min(deficit + tokens, limit.perMinute * (1 + maxDebtMinutes)), at: now}
}

/** Whether the bucket refilled completely (and can be forgotten). */
export function isFull(state: BucketState, limit: BucketLimit, now: number): boolean {
  return deficitAt(state, limit, now) === 0
}

function secondsToRefill(tokens: number, limit: BucketLimit): number {
  if (tokens <= 0) return 0
  // A limit of 0 admits nothing: ask again in a minute (the limit may have been raised).
  if (limit.perMinute <= 0) return 60
  return Math.ceil((tokens * MINUTE_MS) / limit.perMinute / 1000)
}
