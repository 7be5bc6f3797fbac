import {Box, Text} from 'ink'
import {useEffect, useState} from 'react'
import {ORG_TIERS, type OrgTier} from '../../src/tenancy/org-repo.js'
import type {OrganizationSummary} from '../../src/tenancy/org-service.js'
import {ListView, useCursor} from './list-view.js'
import type {PaneUi} from './pane-ui.js'
import {column, fitLine} from './text.js'
import {useLoad} from './use-load.js'

interface OrgsPaneProps {
  ui: PaneUi
  /** The pane is on screen (it stays mounted, hidden, behind the others). */
  isShown: boolean
  /** The organization under the cursor (the other panes work on it). */
  onSelect: (org: OrganizationSummary | null) => void
  /** Enter: open the organization's members. */
  onOpen: () => void
}

/** Organizations matching a search (slug or name, any case); soft-deleted ones are listed and marked. */
export function searchOrgs(orgs: OrganizationSummary[], search: string): OrganizationSummary[] {
  const needle = search.trim().toLowerCase()
  if (!needle) return orgs
  return orgs.filter((org) => org.slug.includes(needle) || org.name.toLowerCase().includes(needle))
}

/** Fixed columns first, the free-text name last: a long or wide name is cut, never the status. */
const ORG_COLUMNS = {slug: 20, status: 7, tier: 10, members: 7}

/** Organizations: search, create, soft delete and restore. */
export function OrgsPane({ui, isShown, onSelect, onOpen}: OrgsPaneProps) {
  const [search, setSearch] = useState('')
  const {data, error, reload} = useLoad(() => ui.core.orgs.listOrgs(ui.actor, {includeDeleted: true}), 'orgs')
  const orgs = searchOrgs(data ?? [], search)
  const listHeight = ui.height - 1
  const cursor = useCursor(orgs, listHeight - 1, (org) => org.id)
  const current = orgs[cursor.index] ?? null
  // Read again when shown: the other panes change member counts, and other processes change orgs.
  useEffect(() => {
    if (isShown) reload()
  }, [isShown])
  useEffect(() => onSelect(current), [current?.id, current?.deletedAt, current?.memberCount])

  async function create() {
    const name = await ui.ask('New organization name:')
    if (!name) return
    const slug = await ui.ask('Slug (empty: from the name):')
    if (slug === null) return
    const tier = await ui.ask(`Tier (${ORG_TIERS.join(', ')}):`, 'free')
    if (tier === null) return
    const result = await ui.run(
      // The service validates the tier (validation.failed for an unknown one).
      () => ui.core.orgs.createOrg(ui.actor, {name, slug: slug || undefined, tier: tier.trim() as OrgTier}),
      ({org}) => `Created organization ${org.slug}`,
    )
    if (result) {
      setSearch('')
      // The cursor moves to the new organization once the list shows it.
      cursor.select(result.org.id)
      reload()
    }
  }

  async function softDelete(org: OrganizationSummary) {
    if (org.deletedAt) return ui.notify(`${org.slug} is already deleted (r restores it)`)
    if (!(await ui.confirm(`Delete organization ${org.slug}? It can be restored with r.`))) return
    if (await ui.run(() => ui.core.orgs.deleteOrg(ui.actor, {org: org.id}), () => `Deleted organization ${org.slug}`)) reload()
  }

  async function restore(org: OrganizationSummary) {
    if (await ui.run(() => ui.core.orgs.restoreOrg(ui.actor, {org: org.id}), () => `Restored organization ${org.slug}`)) reload()
  }

  ui.keys((input, key) => {
    if (cursor.handleKey(input, key)) return
    const under = orgs[cursor.currentIndex()]
    if (input === '/') {
      void ui.ask('Search (slug or name):', search).then((value) => {
        if (value === null) return
        setSearch(value)
        cursor.select(null)
      })
    } else if (input === 'n') void create()
    else if (input === 'd' && under) void softDelete(under)
    else if (input === 'r' && under) void restore(under)
    else if (key.return && under) onOpen()
  })

  const summary = `${orgs.length} of ${data?.length ?? 0} organization(s)${search ? `, search "${search}"` : ''}`
  const rows = orgs.map(
    (org) =>
      `${column(org.slug, ORG_COLUMNS.slug)} ${column(org.deletedAt ? 'deleted' : 'active', ORG_COLUMNS.status)} ${column(org.tier, ORG_COLUMNS.tier)} ${column(org.memberCount, ORG_COLUMNS.members)} ${org.name}`,
  )
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">{fitLine(error ?? summary, ui.width)}</Text>
      <ListView
        header={`${column('slug', ORG_COLUMNS.slug)} ${column('status', ORG_COLUMNS.status)} ${column('tier', ORG_COLUMNS.tier)} ${column('members', ORG_COLUMNS.members)} name`}
        rows={rows}
        cursor={cursor.index}
        width={ui.width}
        height={listHeight}
        color={ui.color}
        empty={data ? 'No organizations (n creates one)' : 'Loading…'}
      />
    </Box>
  )
}
