import type {FeatureFlag, FlagDetails, FlagValue} from '../../src/flags/flag-service.js'
import {renderRecord, renderTable} from '../lib/render-table.js'

export function onOff(enabled: boolean): 'on' | 'off' {
  return enabled ? 'on' : 'off'
}

function formatRollout(percentage: number | null): string | null {
  return percentage === null ? null : `${percentage}%`
}

export function renderFlag(flag: FeatureFlag): string {
  return renderRecord([
    ['key', flag.key],
    ['description', flag.description],
    ['default', onOff(flag.defaultEnabled)],
    ['rollout', formatRollout(flag.rolloutPercentage)],
    ['overrides', flag.overrideCount],
    ['created', flag.createdAt],
    ['updated', flag.updatedAt],
    ['id', flag.id],
  ])
}

export function renderFlags(flags: FeatureFlag[]): string {
  return renderTable(flags, [
    {header: 'key', value: (flag) => flag.key},
    {header: 'default', value: (flag) => onOff(flag.defaultEnabled)},
    {header: 'rollout', value: (flag) => formatRollout(flag.rolloutPercentage)},
    {header: 'overrides', value: (flag) => flag.overrideCount},
    {header: 'description', value: (flag) => flag.description},
    {header: 'updated', value: (flag) => flag.updatedAt},
  ])
}

export function renderOverrides(overrides: FlagDetails['overrides']): string {
  return renderTable(overrides, [
    {header: 'org', value: (override) => override.orgSlug},
    {header: 'value', value: (override) => onOff(override.enabled)},
    {header: 'org id', value: (override) => override.orgId},
  ])
}

/** "on for acme: rollout (bucket 37 ≤ 50%)" */
export function describeFlagValue(value: FlagValue): string {
  const state = `${value.flag} is ${onOff(value.enabled)} for ${value.orgSlug}`
  if (value.reason === 'override') return `${state}: override`
  if (value.reason === 'rollout') return `${state}: rollout (bucket ${value.bucket} ${value.enabled ? '≤' : '>'} ${value.rolloutPercentage}%)`
  return `${state}: default`
}
