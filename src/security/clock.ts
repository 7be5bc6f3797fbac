/**
 * The one source of "now" for the core. Everything that compares against the current time
 * (token expiry, session lifetimes, rate limits, TOTP windows) takes a Clock, so tests move
 * time instead of sleeping.
 */
export interface Clock {
  /** A fresh Date each call: callers may mutate it without affecting the clock. */
  now(): Date
}

/** The wall clock. Stateless, so sharing it is safe. */
export const systemClock: Clock = {
  now: () => new Date(),
}

/** A clock that only moves when told to. For tests and fixtures. */
export interface FixedClock extends Clock {
  /** Moves time forward (or backward, for a negative value) by `ms` milliseconds. */
  advance(ms: number): void
  /** Jumps to `date`. */
  set(date: Date): void
}

/**
 * Creates a clock frozen at `start`. The clock keeps its own copy of every date it is given
 * and hands out copies, so no caller can move it by mutating a Date.
 */
export function createFixedClock(start: Date): FixedClock {
  let current = toValidTime(start)
  return {
    now: () => new Date(current),
    advance(ms) {
      if (!Number.isFinite(ms)) throw new RangeError('advance(ms) needs a finite number')
      current += ms
    },
    set(date) {
      current = toValidTime(date)
    },
  }
}

function toValidTime(date: Date): number {
  const time = date.getTime()
  if (Number.isNaN(time)) throw new RangeError('the clock cannot be set to an invalid Date')
  return time
}
