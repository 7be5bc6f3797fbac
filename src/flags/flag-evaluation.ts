import {createHash} from 'node:crypto'

export type FlagReason = 'override' | 'rollout' | 'default'

export interface FlagEvaluation {
  enabled: boolean
  reason: FlagReason
  /** The org's stable bucket (1..100) for this flag; set when the rollout decided. */
  bucket: number | null
}

// A bucket never changes for a pair, so remembering it is safe: hashing every rollout flag on
// every GET /v1/orgs/{org}/flags was a good part of that request's CPU. Bounded: cleared when full.
const KNOWN_BUCKETS_MAX = 50_000
const knownBuckets = new Map<string, number>()

/**
 * The org's stable bucket for a flag, 1..100, from SHA-256 of "<flag key>:<org id>". It never
 * changes for a pair, so raising a rollout percentage only ever turns more orgs on.
 */
export function rolloutBucket(flagKey: string, orgId: string): number {
  const pair = `${flagKey}:${orgId}`
  let bucket = knownBuckets.get(pair)
  if (bucket === undefined) {
    bucket = (createHash('sha256').update(pair).digest().readUInt32BE(0) % 100) + 1
    if (knownBuckets.size >= KNOWN_BUCKETS_MAX) knownBuckets.clear()
    knownBuckets.set(pair, bucket)
  }
  return bucket
}

/**
 * The flag's value for one org: the org's override if set; else, when a rollout percentage is
 * set, on iff the org's bucket is within it; else the flag's default.
 */
export function evaluateFlag(
  flag: {key: string; defaultEnabled: boolean; rolloutPercentage: number | null},
  orgId: string,
  override: boolean | null,
): FlagEvaluation {
  if (override !== null) return {enabled: override, reason: 'override', bucket: null}
  if (flag.rolloutPercentage !== null) {
    const bucket = rolloutBucket(flag.key, orgId)
    return {enabled: bucket <= flag.rolloutPercentage, reason: 'rollout', bucket}
  }
  return {enabled: flag.defaultEnabled, reason: 'default', bucket: null}
}
