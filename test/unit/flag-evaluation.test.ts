import {v5 as uuidv5} from 'uuid'
import {describe, expect, it} from 'vitest'
import {evaluateFlag, rolloutBucket} from '../../src/flags/flag-evaluation.js'

const ORG_COUNT = 10_000
const NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8'
/** 10,000 distinct, UUID-shaped org ids, the same on every run so a failure reproduces. */
const ORG_IDS = Array.from({length: ORG_COUNT}, (_, index) => uuidv5(`org-${index}`, NAMESPACE))

function flag(key: string, rolloutPercentage: number | null, defaultEnabled = false) {
  return {key, defaultEnabled, rolloutPercentage}
}

function enabledOrgs(key: string, percentage: number): Set<string> {
  return new Set(ORG_IDS.filter((orgId) => evaluateFlag(flag(key, percentage), orgId, null).enabled))
}

describe('rolloutBucket', () => {
  it('gives every org a stable bucket between 1 and 100', () => {
    expect(new Set(ORG_IDS).size).toBe(ORG_COUNT)
    for (const orgId of ORG_IDS.slice(0, 1000)) {
      const bucket = rolloutBucket('new-billing', orgId)
      expect(Number.isInteger(bucket)).toBe(true)
      expect(bucket).toBeGreaterThanOrEqual(1)
      expect(bucket).toBeLessThanOrEqual(100)
      expect(rolloutBucket('new-billing', orgId)).toBe(bucket)
    }
  })

  it('is pinned: SHA-256 of "<flag key>:<org id>", first 32 bits mod 100, plus 1', () => {
    // Values computed independently; a change here would move live orgs in or out of rollouts.
    expect(rolloutBucket('new-billing', 'org-1')).toBe(3)
    expect(rolloutBucket('new-billing', 'org-2')).toBe(53)
    expect(rolloutBucket('dark-mode', '0190a000-0000-7000-8000-000000000001')).toBe(56)
  })

  it('spreads orgs over all 100 buckets roughly evenly', () => {
    const counts = new Array<number>(101).fill(0)
    for (const orgId of ORG_IDS) counts[rolloutBucket('spread', orgId)] = (counts[rolloutBucket('spread', orgId)] ?? 0) + 1
    const used = counts.slice(1)
    expect(used.every((count) => count > 0)).toBe(true)
    // 100 per bucket expected; 50..160 is far outside random noise for 10,000 draws.
    expect(Math.min(...used)).toBeGreaterThan(50)
    expect(Math.max(...used)).toBeLessThan(160)
  })

  it('buckets the same org differently for different flags', () => {
    const differing = ORG_IDS.slice(0, 1000).filter((orgId) => rolloutBucket('flag-a', orgId) !== rolloutBucket('flag-b', orgId))
    expect(differing.length).toBeGreaterThan(900)
  })
})

describe('evaluateFlag rollout', () => {
  it('turns rollout 30 on for 27–33% of 10,000 orgs', () => {
    const share = enabledOrgs('new-billing', 30).size / ORG_COUNT
    expect(share).toBeGreaterThanOrEqual(0.27)
    expect(share).toBeLessThanOrEqual(0.33)
  })

  it.each([10, 50, 75])('turns rollout %i on for about that share of orgs', (percentage) => {
    const share = enabledOrgs('other-flag', percentage).size / ORG_COUNT
    expect(Math.abs(share - percentage / 100)).toBeLessThan(0.03)
  })

  it('keeps every org that is on at 30 on at 50 (raising a rollout only adds orgs)', () => {
    const at30 = enabledOrgs('new-billing', 30)
    const at50 = enabledOrgs('new-billing', 50)
    const droppedOut = [...at30].filter((orgId) => !at50.has(orgId))
    expect(droppedOut).toEqual([])
    expect(at50.size).toBeGreaterThan(at30.size)
  })

  it('is monotonic across every percentage', () => {
    const sample = ORG_IDS.slice(0, 500)
    for (const orgId of sample) {
      let wasOn = false
      for (let percentage = 0; percentage <= 100; percentage += 1) {
        const isOn = evaluateFlag(flag('mono', percentage), orgId, null).enabled
        if (wasOn) expect(isOn).toBe(true)
        wasOn = isOn
      }
    }
  })

  it('turns no org on at 0 and every org on at 100, whatever the default', () => {
    expect(ORG_IDS.some((orgId) => evaluateFlag(flag('edge', 0, true), orgId, null).enabled)).toBe(false)
    expect(ORG_IDS.every((orgId) => evaluateFlag(flag('edge', 100, false), orgId, null).enabled)).toBe(true)
  })

  it('reports the rollout reason and the org bucket', () => {
    const orgId = ORG_IDS[0] ?? ''
    const bucket = rolloutBucket('reasons', orgId)
    expect(evaluateFlag(flag('reasons', bucket), orgId, null)).toEqual({enabled: true, reason: 'rollout', bucket})
    expect(evaluateFlag(flag('reasons', bucket - 1), orgId, null)).toEqual({enabled: false, reason: 'rollout', bucket})
  })
})

describe('evaluateFlag precedence', () => {
  const orgId = 'org-precedence'

  it('lets an override beat the rollout and the default', () => {
    expect(evaluateFlag(flag('p', 100, true), orgId, false)).toEqual({enabled: false, reason: 'override', bucket: null})
    expect(evaluateFlag(flag('p', 0, false), orgId, true)).toEqual({enabled: true, reason: 'override', bucket: null})
  })

  it('falls back to the default without override or rollout', () => {
    expect(evaluateFlag(flag('p', null, true), orgId, null)).toEqual({enabled: true, reason: 'default', bucket: null})
    expect(evaluateFlag(flag('p', null, false), orgId, null)).toEqual({enabled: false, reason: 'default', bucket: null})
  })
})
