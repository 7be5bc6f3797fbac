import {Box, Text, useInput} from 'ink'
import {useEffect, useState} from 'react'
import type {AuditEvent, AuditFilter} from '../../src/audit/audit-log.js'
import type {AuditNames} from '../../src/audit/audit-names.js'
import {isDomainError} from '../../src/errors/domain-error.js'
import {looksLikeId} from '../../src/tenancy/org-schemas.js'
import type {PaneUi} from './pane-ui.js'
import {column, describeError, fitLine} from './text.js'

/** Like `audit tail --follow`: well inside the promise that other processes' events show within 2 seconds. */
export const AUDIT_POLL_MILLISECONDS = 500
/** Events kept for the screen; the pane shows the newest that fit. */
const KEPT_EVENTS = 200

interface AuditFilters {
  /** As typed (slug or id), and the id it names. */
  org: {ref: string; id: string} | null
  action: string
  actor: string
}

const NO_FILTERS: AuditFilters = {org: null, action: '', actor: ''}

/** One event on one line: time, action, actor, org, target; org slugs and user emails instead of their ids where known. */
export function formatAuditRow(event: AuditEvent, names: AuditNames): string {
  const actor =
    event.actor.type === 'user' && event.actor.id
      ? `user:${names.userEmails.get(event.actor.id) ?? event.actor.id}`
      : `${event.actor.type}:${event.actor.name ?? event.actor.id ?? '-'}`
  const org = event.orgId ? (names.orgSlugs.get(event.orgId) ?? event.orgId) : '-'
  const targetId = event.target?.id ?? null
  const targetName = targetId && event.target?.type === 'user' ? names.userEmails.get(targetId) : targetId && event.target?.type === 'org' ? names.orgSlugs.get(targetId) : undefined
  const target = event.target ? `${event.target.type}:${targetName ?? targetId ?? '-'}` : '-'
  return `${event.createdAt.slice(11, 19)} ${column(event.action, 20)} ${column(actor, 24)} ${column(org, 12)} ${target}`
}

function mergeNames(into: AuditNames, more: AuditNames): AuditNames {
  return {orgSlugs: new Map([...into.orgSlugs, ...more.orgSlugs]), userEmails: new Map([...into.userEmails, ...more.userEmails])}
}

/** A live tail of the audit log, polled from the core, with filters by org, action pattern and actor. */
export function AuditPane({ui}: {ui: PaneUi}) {
  const [filters, setFilters] = useState<AuditFilters>(NO_FILTERS)
  const [events, setEvents] = useState<AuditEvent[]>([])
  const [names, setNames] = useState<AuditNames>({orgSlugs: new Map(), userEmails: new Map()})
  const [error, setError] = useState<string | null>(null)
  // The filters the shown events were read with: until the first read of new filters, none are shown.
  const [loadedKey, setLoadedKey] = useState<string | null>(null)
  const filterKey = JSON.stringify([filters.org?.id ?? null, filters.action, filters.actor])
  const listHeight = ui.height - 2

  useEffect(() => {
    const filter: AuditFilter = {orgId: filters.org?.id, action: filters.action || undefined, actor: filters.actor || undefined}
    let isRunning = true
    let timer: NodeJS.Timeout | undefined
    let afterSeq = 0
    async function show(fresh: AuditEvent[], isFirst: boolean) {
      const freshNames = await ui.core.auditNames.namesOf(fresh)
      if (!isRunning) return
      setNames((current) => (isFirst ? freshNames : mergeNames(current, freshNames)))
      setEvents((current) => (isFirst ? fresh : [...current, ...fresh].slice(-KEPT_EVENTS)))
      setLoadedKey(filterKey)
    }
    async function poll(isFirst: boolean) {
      try {
        if (isFirst) {
          // Follow from a fixed position, so no event is shown twice or skipped between the reads.
          afterSeq = await ui.core.audit.latestSeq()
          await show(await ui.core.audit.listEvents({...filter, throughSeq: afterSeq}, KEPT_EVENTS), true)
        } else {
          const fresh = await ui.core.audit.listEventsAfter({...filter, afterSeq})
          afterSeq = fresh.at(-1)?.seq ?? afterSeq
          if (fresh.length > 0) await show(fresh, false)
        }
        if (isRunning) setError(null)
      } catch (failure) {
        if (isRunning) setError(describeError(failure))
      }
      if (isRunning) timer = setTimeout(() => void poll(false), AUDIT_POLL_MILLISECONDS)
    }
    void poll(true)
    return () => {
      isRunning = false
      clearTimeout(timer)
    }
  }, [filterKey])

  async function filterByOrg() {
    const ref = await ui.ask('Filter by org (slug or id; empty: all):', filters.org?.ref ?? '')
    if (ref === null) return
    if (!ref.trim()) return setFilters((current) => ({...current, org: null}))
    try {
      const org = await ui.core.orgs.showOrg(ui.actor, {org: ref.trim()})
      setFilters((current) => ({...current, org: {ref: org.slug, id: org.id}}))
    } catch (failure) {
      // A purged org's events remain: an id that names no org is taken as such.
      if (isDomainError(failure) && failure.code === 'org.not_found' && looksLikeId(ref.trim())) setFilters((current) => ({...current, org: {ref: ref.trim(), id: ref.trim()}}))
      else await ui.run(() => Promise.reject(failure))
    }
  }

  async function filterBy(field: 'action' | 'actor', label: string) {
    const value = await ui.ask(label, filters[field])
    if (value !== null) setFilters((current) => ({...current, [field]: value.trim()}))
  }

  useInput(
    (input) => {
      if (input === 'o') void filterByOrg()
      else if (input === 'a') void filterBy('action', 'Filter by action (org.created or org.*; empty: all):')
      else if (input === 'u') void filterBy('actor', 'Filter by actor (id or name; empty: all):')
      else if (input === 'c') setFilters(NO_FILTERS)
    },
    {isActive: ui.isActive},
  )

  const described = [filters.org ? `org=${filters.org.ref}` : '', filters.action ? `action=${filters.action}` : '', filters.actor ? `actor=${filters.actor}` : ''].filter(Boolean)
  const summary = `Live audit tail (every ${AUDIT_POLL_MILLISECONDS} ms)${described.length ? `; ${described.join(' ')}` : '; no filters'}`
  const isLoaded = loadedKey === filterKey
  const shown = isLoaded ? events.slice(-Math.max(1, listHeight - 1)) : []
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">{fitLine(error ?? summary, ui.width)}</Text>
      <Text bold={ui.color} wrap="truncate">{fitLine(`time     ${column('action', 20)} ${column('actor', 24)} ${column('org', 12)} target`, ui.width)}</Text>
      {shown.length === 0 ? <Text wrap="truncate">{fitLine(isLoaded ? 'No events yet' : 'Loading…', ui.width)}</Text> : null}
      {shown.map((event) => (
        <Text key={event.seq} wrap="truncate">{fitLine(formatAuditRow(event, names), ui.width)}</Text>
      ))}
    </Box>
  )
}
