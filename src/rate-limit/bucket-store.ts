import {chargeTokens, deficitAt, isFull, takeToken, type BucketLimit, type BucketState, type TakeResult} from './token-bucket.js'

/**
 * Token buckets by key, in memory, bounded: at most `maxBuckets` (the least recently used goes
 * first beyond that: it forgets a key's use, never refuses one more), and buckets that refilled
 * completely are dropped by sweep() (they are the same as none).
 */
export interface BucketStore {
  take(key: string, limit: BucketLimit, now: number): TakeResult
  /** What taking would answer if the bucket were empty now (for a refusal decided elsewhere), without taking. */
  peek(key: string, limit: BucketLimit, now: number): TakeResult
  /** Tokens missing from the key's bucket now. */
  deficitOf(key: string, limit: BucketLimit, now: number): number
  /** Charges tokens spent elsewhere (other daemons). */
  charge(key: string, limit: BucketLimit, tokens: number, now: number): void
  /** Drops the buckets that refilled completely; returns how many are left. */
  sweep(now: number, limitOf: (key: string) => BucketLimit | null): number
  size(): number
}

interface Entry {
  state: BucketState
  limit: BucketLimit
}

export function createBucketStore({maxBuckets}: {maxBuckets: number}): BucketStore {
  const buckets = new Map<string, Entry>()
  function put(key: string, entry: Entry): void {
    // Re-inserted so the map's order is least recently used first.
    buckets.delete(key)
    buckets.set(key, entry)
    if (buckets.size > maxBuckets) buckets.delete(buckets.keys().next().value!)
  }
  return {
    take(key, limit, now) {
      const result = takeToken(buckets.get(key)?.state, limit, now)
      put(key, {state: result.state, limit})
      return result
    },
    peek(key, limit, now) {
      const deficit = deficitAt(buckets.get(key)?.state, limit, now)
      return takeToken({deficit: Math.max(deficit, limit.perMinute), at: now}, limit, now)
    },
    deficitOf: (key, limit, now) => deficitAt(buckets.get(key)?.state, limit, now),
    charge(key, limit, tokens, now) {
      if (tokens <= 0) return
      put(key, {state: chargeTokens(buckets.get(key)?.state, limit, tokens, now), limit})
    },
    sweep(now, limitOf) {
      for (const [key, entry] of buckets) {
        // The limit may have changed since the bucket's last use (an org's new rpm).
        const limit = limitOf(key) ?? entry.limit
        if (isFull(entry.state, limit, now)) buckets.delete(key)
      }
      return buckets.size
    },
    size: () => buckets.size,
  }
}
