import {Box, Text} from 'ink'
import type {FeatureFlag, FlagValue} from '../../src/flags/flag-service.js'
import {parseRollout} from '../flag/parse.js'
import {ListView, useCursor} from './list-view.js'
import {SELECT_AN_ORG, type PaneUi} from './pane-ui.js'
import {column, fitLine} from './text.js'
import {useLoad} from './use-load.js'

interface FlagRow {
  flag: FeatureFlag
  /** The flag as the selected organization sees it. */
  value: FlagValue | undefined
}

const onOff = (enabled: boolean) => (enabled ? 'on' : 'off')

/** Feature flags: toggle the default, override for the selected organization, rollout, create, delete. */
export function FlagsPane({ui}: {ui: PaneUi}) {
  const org = ui.org
  const {data, error, reload} = useLoad(async (): Promise<FlagRow[]> => {
    const flags = await ui.core.flags.listFlags(ui.actor)
    const values = org && !org.deletedAt ? await ui.core.flags.evaluateFlagsForOrg(ui.actor, {org: org.id}) : []
    return flags.map((flag) => ({flag, value: values.find((value) => value.flag === flag.key)}))
  }, `flags:${org?.id ?? ''}:${org?.deletedAt ?? ''}`)
  const rows = data ?? []
  const listHeight = ui.height - 1
  const cursor = useCursor(rows, listHeight - 1, (row) => row.flag.key)

  async function override(flag: FeatureFlag) {
    if (!org) return ui.notify(SELECT_AN_ORG)
    const value = await ui.ask(`Override ${flag.key} for ${org.slug} (on, off, clear):`)
    if (!value) return
    const result = await ui.run(
      () => ui.core.flags.setOverride(ui.actor, {key: flag.key, org: org.id, value: value.trim().toLowerCase()}),
      (set) => `${set.flag} is ${onOff(set.enabled)} for ${set.orgSlug} (${set.reason})`,
    )
    if (result) reload()
  }

  async function rollout(flag: FeatureFlag) {
    const value = await ui.ask(`Rollout of ${flag.key} (0-100, none):`, flag.rolloutPercentage === null ? 'none' : String(flag.rolloutPercentage))
    if (value === null) return
    const result = await ui.run(
      () => ui.core.flags.setFlag(ui.actor, {key: flag.key, rolloutPercentage: parseRollout(value)}),
      (set) => `Rollout of ${set.key}: ${set.rolloutPercentage === null ? 'none' : `${set.rolloutPercentage}%`}`,
    )
    if (result) reload()
  }

  async function create() {
    const key = await ui.ask('New flag key:')
    if (!key) return
    const description = await ui.ask('Description (optional):')
    if (description === null) return
    const result = await ui.run(
      () => ui.core.flags.createFlag(ui.actor, {key, description: description || undefined}),
      ({flag}) => `Created flag ${flag.key} (off)`,
    )
    if (result) reload()
  }

  async function remove(flag: FeatureFlag) {
    if (!(await ui.confirm(`Delete flag ${flag.key} and its ${flag.overrideCount} override(s)?`))) return
    if (await ui.run(() => ui.core.flags.deleteFlag(ui.actor, {key: flag.key}), (deleted) => `Deleted flag ${deleted.key}`)) reload()
  }

  async function toggle(flag: FeatureFlag) {
    // The default is global: every organization without an override follows it.
    if (!(await ui.confirm(`Turn ${flag.key} ${onOff(!flag.defaultEnabled)} by default, for every org without an override?`))) return
    const toggled = await ui.run(() => ui.core.flags.toggleFlag(ui.actor, {key: flag.key}), (result) => `Flag ${result.key} is now ${onOff(result.defaultEnabled)} by default`)
    if (toggled) reload()
  }

  ui.keys((input, key) => {
    if (cursor.handleKey(input, key)) return
    if (input === 'n') return void create()
    const current = rows[cursor.currentIndex()]?.flag
    if (!current) return
    if (input === 't') void toggle(current)
    else if (input === 'o') void override(current)
    else if (input === 'p') void rollout(current)
    else if (input === 'x') void remove(current)
  })

  const lines = rows.map(({flag, value}) => {
    const forOrg = value ? `${onOff(value.enabled)} (${value.reason})` : '-'
    return `${column(flag.key, 24)} ${column(onOff(flag.defaultEnabled), 7)} ${column(flag.rolloutPercentage === null ? 'none' : `${flag.rolloutPercentage}%`, 7)} ${column(flag.overrideCount, 9)} ${forOrg}`
  })
  const summary = `${rows.length} flag(s)${org ? `; values for ${org.slug}` : '; select an org (1) to see its values'}`
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">{fitLine(error ?? summary, ui.width)}</Text>
      <ListView
        header={`${column('key', 24)} ${column('default', 7)} ${column('rollout', 7)} ${column('overrides', 9)} ${org ? `for ${org.slug}` : 'for org'}`}
        rows={lines}
        cursor={cursor.index}
        width={ui.width}
        height={listHeight}
        color={ui.color}
        empty={data ? 'No flags (n creates one)' : 'Loading…'}
      />
    </Box>
  )
}
