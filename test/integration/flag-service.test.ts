import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {rolloutBucket} from '../../src/flags/flag-evaluation.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

describeEachDialect('flag service', (dialect) => {
  let t: TestCore
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  let counter = 0
  async function newOrg() {
    counter += 1
    const {org} = await t.core.orgs.createOrg(OPERATOR, {name: `Flag Org ${counter}`, slug: `flag-org-${counter}`})
    return org
  }

  describe('createFlag', () => {
    it('creates a flag off by default without rollout and audits flag.created', async () => {
      const before = await t.core.audit.latestSeq()
      const {flag, created} = await t.core.flags.createFlag(OPERATOR, {key: 'New-Dashboard', description: 'The new dashboard'})
      expect(created).toBe(true)
      expect(flag).toMatchObject({key: 'new-dashboard', description: 'The new dashboard', defaultEnabled: false, rolloutPercentage: null, overrideCount: 0})
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({action: 'flag.created', orgId: null, target: {type: 'flag', id: flag.id}, metadata: {key: 'new-dashboard', default: 'off', rollout: null}})
      expect((await t.core.flags.listFlags(OPERATOR)).map((f) => f.key)).toContain('new-dashboard')
    })

    it('refuses a duplicate key (flag.key_taken); ifNotExists returns the existing flag', async () => {
      const {flag} = await t.core.flags.createFlag(OPERATOR, {key: 'dup-flag'})
      await expect(t.core.flags.createFlag(OPERATOR, {key: 'DUP-flag'})).rejects.toMatchObject({code: 'flag.key_taken'})
      const before = await t.core.audit.latestSeq()
      expect(await t.core.flags.createFlag(OPERATOR, {key: 'dup-flag', ifNotExists: true})).toEqual({flag, created: false})
      expect(await t.core.audit.latestSeq()).toBe(before)
    })

    it.each([
      ['rollout above 100', {key: 'bad-rollout', rolloutPercentage: 101}],
      ['negative rollout', {key: 'bad-rollout', rolloutPercentage: -1}],
      ['fractional rollout', {key: 'bad-rollout', rolloutPercentage: 12.5}],
      ['bad key', {key: '-leading'}],
    ])('refuses %s with validation.failed', async (_label, input) => {
      await expect(t.core.flags.createFlag(OPERATOR, input)).rejects.toMatchObject({code: 'validation.failed'})
      await expect(t.core.flags.showFlag(OPERATOR, {key: 'bad-rollout'})).rejects.toMatchObject({code: 'flag.not_found'})
    })
  })

  describe('evaluate', () => {
    it('names the reason: default, then rollout, then override; clearing the override goes back to rollout', async () => {
      const org = await newOrg()
      await t.core.flags.createFlag(OPERATOR, {key: 'reasons'})
      expect(await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: org.slug, key: 'reasons'})).toMatchObject({flag: 'reasons', orgId: org.id, orgSlug: org.slug, enabled: false, reason: 'default', bucket: null, rolloutPercentage: null})

      // The smallest rollout percentage that includes the org is its bucket.
      const bucket = rolloutBucket('reasons', org.id)
      await t.core.flags.setFlag(OPERATOR, {key: 'reasons', rolloutPercentage: bucket})
      expect(await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: org.id, key: 'reasons'})).toMatchObject({enabled: true, reason: 'rollout', bucket, rolloutPercentage: bucket})

      // An override beats the rollout.
      const forcedOff = await t.core.flags.setOverride(OPERATOR, {key: 'reasons', org: org.slug, value: 'off'})
      expect(forcedOff).toMatchObject({enabled: false, reason: 'override', bucket: null})
      expect(await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: org.slug, key: 'reasons'})).toMatchObject({enabled: false, reason: 'override'})
      expect((await t.core.flags.showFlag(OPERATOR, {key: 'reasons'})).overrides).toEqual([{orgId: org.id, orgSlug: org.slug, enabled: false}])

      const cleared = await t.core.flags.setOverride(OPERATOR, {key: 'reasons', org: org.slug, value: 'clear'})
      expect(cleared).toMatchObject({enabled: true, reason: 'rollout', bucket})
      expect((await t.core.flags.showFlag(OPERATOR, {key: 'reasons'})).overrides).toEqual([])
      const overrideRows = await t.core.database.db.selectFrom('flag_override').select('org_id').where('org_id', '=', org.id).execute()
      expect(overrideRows).toEqual([])
    })

    it('an override on beats a rollout that excludes the org and a default that is off', async () => {
      const org = await newOrg()
      await t.core.flags.createFlag(OPERATOR, {key: 'forced-on', rolloutPercentage: 0})
      expect(await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: org.slug, key: 'forced-on'})).toMatchObject({enabled: false, reason: 'rollout'})
      expect(await t.core.flags.setOverride(OPERATOR, {key: 'forced-on', org: org.slug, value: 'on'})).toMatchObject({enabled: true, reason: 'override'})
      // Only that org: another org still follows the rollout.
      const other = await newOrg()
      expect(await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: other.slug, key: 'forced-on'})).toMatchObject({enabled: false, reason: 'rollout'})
    })

    it('an override off beats a default that is on', async () => {
      const org = await newOrg()
      await t.core.flags.createFlag(OPERATOR, {key: 'forced-off', defaultEnabled: true})
      expect(await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: org.slug, key: 'forced-off'})).toMatchObject({enabled: true, reason: 'default'})
      await t.core.flags.setOverride(OPERATOR, {key: 'forced-off', org: org.slug, value: 'off'})
      expect(await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: org.slug, key: 'forced-off'})).toMatchObject({enabled: false, reason: 'override'})
      await t.core.flags.setOverride(OPERATOR, {key: 'forced-off', org: org.slug, value: 'clear'})
      expect(await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: org.slug, key: 'forced-off'})).toMatchObject({enabled: true, reason: 'default'})
    })

    it('decides by the org bucket through the service, as rolloutBucket says', async () => {
      await t.core.flags.createFlag(OPERATOR, {key: 'bucketed', rolloutPercentage: 40})
      for (let i = 0; i < 8; i += 1) {
        const org = await newOrg()
        const bucket = rolloutBucket('bucketed', org.id)
        expect(await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: org.id, key: 'bucketed'})).toMatchObject({enabled: bucket <= 40, reason: 'rollout', bucket})
      }
    })

    it('raises flag.not_found and org.not_found', async () => {
      const org = await newOrg()
      await t.core.flags.createFlag(OPERATOR, {key: 'exists'})
      await expect(t.core.flags.evaluateFlagForOrg(OPERATOR, {org: org.slug, key: 'missing-flag'})).rejects.toMatchObject({code: 'flag.not_found'})
      await expect(t.core.flags.evaluateFlagForOrg(OPERATOR, {org: 'missing-org', key: 'exists'})).rejects.toMatchObject({code: 'org.not_found'})
      await expect(t.core.flags.setOverride(OPERATOR, {key: 'missing-flag', org: org.slug, value: 'on'})).rejects.toMatchObject({code: 'flag.not_found'})
      await expect(t.core.flags.setOverride(OPERATOR, {key: 'exists', org: 'missing-org', value: 'on'})).rejects.toMatchObject({code: 'org.not_found'})
      await expect(t.core.flags.setOverride(OPERATOR, {key: 'exists', org: org.slug, value: 'maybe'})).rejects.toMatchObject({code: 'validation.failed'})
    })
  })

  describe('overrides', () => {
    it('audits each change of an override once, with from/to, and nothing when unchanged', async () => {
      const org = await newOrg()
      const {flag} = await t.core.flags.createFlag(OPERATOR, {key: 'override-audit'})
      const before = await t.core.audit.latestSeq()
      await t.core.flags.setOverride(OPERATOR, {key: 'override-audit', org: org.slug, value: 'on'})
      await t.core.flags.setOverride(OPERATOR, {key: 'override-audit', org: org.slug, value: 'on'})
      await t.core.flags.setOverride(OPERATOR, {key: 'override-audit', org: org.slug, value: 'off'})
      await t.core.flags.setOverride(OPERATOR, {key: 'override-audit', org: org.slug, value: 'clear'})
      await t.core.flags.setOverride(OPERATOR, {key: 'override-audit', org: org.slug, value: 'clear'})
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events.map((event) => [event.action, event.orgId, event.target?.id, event.metadata])).toEqual([
        ['flag.override_set', org.id, flag.id, {key: 'override-audit', from: 'clear', to: 'on'}],
        ['flag.override_set', org.id, flag.id, {key: 'override-audit', from: 'on', to: 'off'}],
        ['flag.override_set', org.id, flag.id, {key: 'override-audit', from: 'off', to: 'clear'}],
      ])
    })

    it('counts overrides per flag', async () => {
      const first = await newOrg()
      const second = await newOrg()
      await t.core.flags.createFlag(OPERATOR, {key: 'counted'})
      await t.core.flags.setOverride(OPERATOR, {key: 'counted', org: first.slug, value: 'on'})
      await t.core.flags.setOverride(OPERATOR, {key: 'counted', org: second.slug, value: 'off'})
      expect((await t.core.flags.listFlags(OPERATOR)).find((f) => f.key === 'counted')?.overrideCount).toBe(2)
      expect((await t.core.flags.showFlag(OPERATOR, {key: 'counted'})).overrides.map((o) => [o.orgId, o.enabled]).sort()).toEqual(
        [
          [first.id, true],
          [second.id, false],
        ].sort(),
      )
    })
  })

  describe('setFlag and toggleFlag', () => {
    it('toggle flips the default, and the default decides when nothing else does', async () => {
      const org = await newOrg()
      await t.core.flags.createFlag(OPERATOR, {key: 'toggled'})
      const before = await t.core.audit.latestSeq()
      expect((await t.core.flags.toggleFlag(OPERATOR, {key: 'toggled'})).defaultEnabled).toBe(true)
      expect(await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: org.slug, key: 'toggled'})).toMatchObject({enabled: true, reason: 'default'})
      expect((await t.core.flags.toggleFlag(OPERATOR, {key: 'toggled'})).defaultEnabled).toBe(false)
      expect(await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: org.slug, key: 'toggled'})).toMatchObject({enabled: false, reason: 'default'})
      expect((await t.core.flags.showFlag(OPERATOR, {key: 'toggled'})).defaultEnabled).toBe(false)
      const events = await t.core.audit.listEventsAfter({afterSeq: before})
      expect(events.map((event) => [event.action, event.metadata])).toEqual([
        ['flag.updated', {key: 'toggled', changes: {default: {from: 'off', to: 'on'}}}],
        ['flag.updated', {key: 'toggled', changes: {default: {from: 'on', to: 'off'}}}],
      ])
      await expect(t.core.flags.toggleFlag(OPERATOR, {key: 'no-such-flag'})).rejects.toMatchObject({code: 'flag.not_found'})
    })

    it('setting the rollout to null clears it, so the default decides again', async () => {
      const org = await newOrg()
      await t.core.flags.createFlag(OPERATOR, {key: 'rollout-cleared', defaultEnabled: false})
      await t.core.flags.setFlag(OPERATOR, {key: 'rollout-cleared', rolloutPercentage: 100})
      expect(await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: org.slug, key: 'rollout-cleared'})).toMatchObject({enabled: true, reason: 'rollout'})
      const cleared = await t.core.flags.setFlag(OPERATOR, {key: 'rollout-cleared', rolloutPercentage: null})
      expect(cleared.rolloutPercentage).toBeNull()
      expect((await t.core.flags.showFlag(OPERATOR, {key: 'rollout-cleared'})).rolloutPercentage).toBeNull()
      expect(await t.core.flags.evaluateFlagForOrg(OPERATOR, {org: org.slug, key: 'rollout-cleared'})).toMatchObject({enabled: false, reason: 'default', rolloutPercentage: null})
      const [event] = await t.core.audit.listEvents({action: 'flag.updated'}, 1)
      expect(event?.metadata).toEqual({key: 'rollout-cleared', changes: {rollout: {from: 100, to: null}}})
    })

    it('leaves the rollout alone when only the default changes', async () => {
      await t.core.flags.createFlag(OPERATOR, {key: 'keep-rollout', rolloutPercentage: 25})
      const updated = await t.core.flags.setFlag(OPERATOR, {key: 'keep-rollout', defaultEnabled: true})
      expect(updated).toMatchObject({defaultEnabled: true, rolloutPercentage: 25})
    })

    it('refuses an empty change and an invalid rollout', async () => {
      await t.core.flags.createFlag(OPERATOR, {key: 'strict'})
      await expect(t.core.flags.setFlag(OPERATOR, {key: 'strict'})).rejects.toMatchObject({code: 'validation.failed'})
      await expect(t.core.flags.setFlag(OPERATOR, {key: 'strict', rolloutPercentage: 150})).rejects.toMatchObject({code: 'validation.failed'})
      expect((await t.core.flags.showFlag(OPERATOR, {key: 'strict'})).rolloutPercentage).toBeNull()
    })
  })

  describe('deleteFlag', () => {
    it('deletes a flag with its overrides', async () => {
      const org = await newOrg()
      const {flag} = await t.core.flags.createFlag(OPERATOR, {key: 'doomed'})
      await t.core.flags.setOverride(OPERATOR, {key: 'doomed', org: org.slug, value: 'on'})
      await t.core.flags.deleteFlag(OPERATOR, {key: 'doomed'})
      await expect(t.core.flags.showFlag(OPERATOR, {key: 'doomed'})).rejects.toMatchObject({code: 'flag.not_found'})
      expect(await t.core.database.db.selectFrom('flag_override').select('org_id').where('flag_id', '=', flag.id).execute()).toEqual([])
      const [event] = await t.core.audit.listEvents({action: 'flag.deleted'}, 1)
      expect(event).toMatchObject({target: {type: 'flag', id: flag.id}, metadata: {key: 'doomed', overrides_removed: 1}})
    })
  })
})
