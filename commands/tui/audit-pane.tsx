import {Box, Text} from 'ink'
import {useEffect, useState} from 'react'
import type {AuditEvent, AuditFilter} from '../../src/audit/audit-log.js'
import type {AuditNames} from '../../src/audit/audit-names.js'
import {isDomainError} from '../../src/errors/domain-error.js'
import {looksLikeId} from '../../src/tenancy/org-schemas.js'
import {auditEventNames} from '../audit/render.js'
import type {PaneUi} from './pane-ui.js'
import {column, describeError, fitLine} from './text.js'

/** Like `audit tail --follow`: well inside the promise that other processes' events show within 2 seconds. */
export const AUDIT_POLL_MILLISECONDS = 500
/** Events kept for the screen; the pane shows the newest that fit. */
const KEPT_EVENTS = 200
/** Events read per poll at most; more wait for the next poll. */
const POLL_LIMIT = 500

export interface AuditFilters {
  /** As typed (slug or id), and the id it names. */
  org: {ref: string; id: string} | null
  action: string
  actor: string
}

export const NO_FILTERS: AuditFilters = {org: null, action: '', actor: ''}

/** Widths of the columns of a row (the target takes the rest): 80 columns with the date shown. */
const AUDIT_COLUMNS = {time: 11, action: 20, actor: 22, org: 12}

/**
 * When an event happened, in 11 columns (UTC, as the events are written): the time of day
 * for today's, month-day and minute for this year's, the date for older ones.
 */
export function auditTime(createdAt: string, now: Date): string {
  const today = now.toISOString().slice(0, 10)
  if (createdAt.slice(0, 10) === today) return createdAt.slice(11, 19)
  if (createdAt.slice(0, 4) === today.slice(0, 4)) return `${createdAt.slice(5, 10)} ${createdAt.slice(11, 16)}`
  return createdAt.slice(0, 10)
}

/** One event on one line: time, action, actor, org, target; org slugs and user emails instead of their ids where known. */
export function formatAuditRow(event: AuditEvent, names: AuditNames, now: Date): string {
  const {actor, org, target} = auditEventNames(event, names)
  const targetText = event.target ? `${event.target.type}:${target?.name ?? target?.id ?? '-'}` : '-'
  return [
    column(auditTime(event.createdAt, now), AUDIT_COLUMNS.time),
    column(event.action, AUDIT_COLUMNS.action),
    column(`${event.actor.type}:${actor.name ?? actor.id ?? '-'}`, AUDIT_COLUMNS.actor),
    column(org ? (org.name ?? org.id) : '-', AUDIT_COLUMNS.org),
    targetText,
  ].join(' ')
}

/**
 * The names the kept events use, from the names known so far and those just read: rebuilt
 * from the kept rows on every poll, so the map never outgrows the screen.
 */
export function namesForEvents(events: AuditEvent[], ...sources: AuditNames[]): AuditNames {
  const kept = {orgSlugs: new Map<string, string>(), userEmails: new Map<string, string>()}
  const keep = (map: 'orgSlugs' | 'userEmails', id: string | null | undefined) => {
    if (!id || kept[map].has(id)) return
    for (const source of sources) {
      const name = source[map].get(id)
      if (name !== undefined) return void kept[map].set(id, name)
    }
  }
  for (const event of events) {
    if (event.actor.type === 'user') keep('userEmails', event.actor.id)
    keep('orgSlugs', event.orgId)
    if (event.target?.type === 'org') keep('orgSlugs', event.target.id)
    if (event.target?.type === 'user') keep('userEmails', event.target.id)
  }
  return kept
}

interface AuditPaneProps {
  ui: PaneUi
  /** Kept by the app, so they survive switching panes. */
  filters: AuditFilters
  onFilters: (update: (current: AuditFilters) => AuditFilters) => void
}

/** A live tail of the audit log, polled from the core, with filters by org, action pattern and actor. */
export function AuditPane({ui, filters, onFilters}: AuditPaneProps) {
  const [tail, setTail] = useState<{events: AuditEvent[]; names: AuditNames}>({events: [], names: {orgSlugs: new Map(), userEmails: new Map()}})
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
      setTail((current) => {
        const events = isFirst ? fresh : [...current.events, ...fresh].slice(-KEPT_EVENTS)
        return {events, names: namesForEvents(events, freshNames, current.names)}
      })
      setLoadedKey(filterKey)
    }
    async function poll(isFirst: boolean) {
      try {
        // Every read is bounded by the newest position read first, and the next one starts
        // after it: a filter that rarely matches does not make each poll scan further back.
        const throughSeq = await ui.core.audit.latestSeq()
        if (isFirst) {
          await show(await ui.core.audit.listEvents({...filter, throughSeq}, KEPT_EVENTS), true)
          afterSeq = throughSeq
        } else if (throughSeq > afterSeq) {
          const fresh = await ui.core.audit.listEventsAfter({...filter, afterSeq, throughSeq}, POLL_LIMIT)
          if (fresh.length > 0) await show(fresh, false)
          // A full page: the rest is read from its last event on the next poll.
          afterSeq = fresh.length === POLL_LIMIT ? fresh.at(-1)!.seq : throughSeq
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
    if (!ref.trim()) return onFilters((current) => ({...current, org: null}))
    try {
      const org = await ui.core.orgs.showOrg(ui.actor, {org: ref.trim()})
      onFilters((current) => ({...current, org: {ref: org.slug, id: org.id}}))
    } catch (failure) {
      // A purged org's events remain: an id that names no org is taken as such.
      if (isDomainError(failure) && failure.code === 'org.not_found' && looksLikeId(ref.trim())) onFilters((current) => ({...current, org: {ref: ref.trim(), id: ref.trim()}}))
      else await ui.run(() => Promise.reject(failure))
    }
  }

  async function filterBy(field: 'action' | 'actor', label: string) {
    const value = await ui.ask(label, filters[field])
    if (value !== null) onFilters((current) => ({...current, [field]: value.trim()}))
  }

  ui.keys((input) => {
    if (input === 'o') void filterByOrg()
    else if (input === 'a') void filterBy('action', 'Filter by action (org.created or org.*; empty: all):')
    else if (input === 'u') void filterBy('actor', 'Filter by actor (id or name; empty: all):')
    else if (input === 'c') onFilters(() => NO_FILTERS)
  })

  const described = [filters.org ? `org=${filters.org.ref}` : '', filters.action ? `action=${filters.action}` : '', filters.actor ? `actor=${filters.actor}` : ''].filter(Boolean)
  const summary = `Live audit tail (every ${AUDIT_POLL_MILLISECONDS} ms)${described.length ? `; ${described.join(' ')}` : '; no filters'}`
  const isLoaded = loadedKey === filterKey
  const shown = isLoaded ? tail.events.slice(-Math.max(1, listHeight - 1)) : []
  const now = ui.core.clock.now()
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">{fitLine(error ?? summary, ui.width)}</Text>
      <Text bold={ui.color} wrap="truncate">
        {fitLine(`${column('time', AUDIT_COLUMNS.time)} ${column('action', AUDIT_COLUMNS.action)} ${column('actor', AUDIT_COLUMNS.actor)} ${column('org', AUDIT_COLUMNS.org)} target`, ui.width)}
      </Text>
      {shown.length === 0 ? <Text wrap="truncate">{fitLine(isLoaded ? 'No events yet' : 'Loading…', ui.width)}</Text> : null}
      {shown.map((event) => (
        <Text key={event.seq} wrap="truncate">
          {fitLine(formatAuditRow(event, tail.names, now), ui.width)}
        </Text>
      ))}
    </Box>
  )
}
