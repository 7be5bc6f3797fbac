import type {AuditEvent} from '../../src/audit/audit-log.js'
import type {AuditNames} from '../../src/audit/audit-names.js'

const NO_NAMES: AuditNames = {orgSlugs: new Map(), userEmails: new Map()}

/**
 * One event on one line, as `audit tail` prints it. With names, org slugs and user emails show
 * beside the ids they belong to (`org=acme (0190…)`, `user:ada@example.com (0190…)`).
 */
export function formatAuditLine(event: AuditEvent, names: AuditNames = NO_NAMES): string {
  const actorName = event.actor.type === 'user' && event.actor.id ? names.userEmails.get(event.actor.id) : undefined
  const actor = actorName ? `user:${actorName} (${event.actor.id})` : `${event.actor.type}:${event.actor.name ?? event.actor.id ?? '-'}`
  const target = event.target ? `${event.target.type}:${named(event.target.id, nameOfTarget(event.target, names))}` : '-'
  const org = event.orgId ? named(event.orgId, names.orgSlugs.get(event.orgId)) : '-'
  return [event.createdAt, event.action.padEnd(19), actor, `org=${org}`, target, JSON.stringify(event.metadata)].join('  ')
}

function nameOfTarget(target: NonNullable<AuditEvent['target']>, names: AuditNames): string | undefined {
  if (!target.id) return undefined
  if (target.type === 'org') return names.orgSlugs.get(target.id)
  if (target.type === 'user') return names.userEmails.get(target.id)
  return undefined
}

function named(id: string | null, name: string | undefined): string {
  return name ? `${name} (${id})` : String(id)
}
