import type {AuditEvent} from '../../src/audit/audit-log.js'

/** One event on one line, as `audit tail` prints it. */
export function formatAuditLine(event: AuditEvent): string {
  const actor = `${event.actor.type}:${event.actor.name ?? event.actor.id ?? '-'}`
  const target = event.target ? `${event.target.type}:${event.target.id}` : '-'
  return [event.createdAt, event.action.padEnd(19), actor, `org=${event.orgId ?? '-'}`, target, JSON.stringify(event.metadata)].join('  ')
}
