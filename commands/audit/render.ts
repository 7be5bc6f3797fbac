import type {AuditEvent} from '../../src/audit/audit-log.js'
import type {AuditNames} from '../../src/audit/audit-names.js'
import {escapeControlCharacters} from '../../src/shared/display-text.js'

const NO_NAMES: AuditNames = {orgSlugs: new Map(), userEmails: new Map()}

/** An id of an event and the name it is known by (an org slug, a user email), if any. */
export interface NamedId {
  id: string | null
  name: string | undefined
}

/**
 * The names of an event's actor, org and target, as `audit tail` and the TUI's audit pane show
 * them: a user actor by email, a key or operator actor by the name it was written with, an org
 * by slug, an org or user target by slug or email.
 */
export function auditEventNames(event: AuditEvent, names: AuditNames = NO_NAMES): {actor: NamedId; org: NamedId | null; target: NamedId | null} {
  const actor: NamedId =
    event.actor.type === 'user' && event.actor.id
      ? {id: event.actor.id, name: names.userEmails.get(event.actor.id)}
      : {id: event.actor.id ?? null, name: event.actor.name ?? undefined}
  const org = event.orgId ? {id: event.orgId, name: names.orgSlugs.get(event.orgId)} : null
  const target = event.target ? {id: event.target.id ?? null, name: nameOfTarget(event.target, names)} : null
  return {actor, org, target}
}

/**
 * One event on one line, as `audit tail` prints it. With names, org slugs and user emails show
 * beside the ids they belong to (`org=acme (0190…)`, `user:ada@example.com (0190…)`). Control
 * characters in names (an API key's name written before they were refused) are shown as
 * \uXXXX escapes, never sent to the terminal.
 */
export function formatAuditLine(event: AuditEvent, names: AuditNames = NO_NAMES): string {
  const described = auditEventNames(event, names)
  const actor = event.actor.type === 'user' && described.actor.name ? `user:${named(described.actor)}` : `${event.actor.type}:${event.actor.name ?? event.actor.id ?? '-'}`
  const target = event.target && described.target ? `${event.target.type}:${named(described.target)}` : '-'
  const org = described.org ? named(described.org) : '-'
  return escapeControlCharacters([event.createdAt, event.action.padEnd(19), actor, `org=${org}`, target, JSON.stringify(event.metadata)].join('  '))
}

function nameOfTarget(target: NonNullable<AuditEvent['target']>, names: AuditNames): string | undefined {
  if (!target.id) return undefined
  if (target.type === 'org') return names.orgSlugs.get(target.id)
  if (target.type === 'user') return names.userEmails.get(target.id)
  return undefined
}

function named({id, name}: NamedId): string {
  return name ? `${name} (${id})` : String(id)
}
