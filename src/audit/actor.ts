import type {Actor} from '../access/principal.js'

/** How the audit log records who acted: the stable `actor_type` values of its contract. */
export interface AuditActor {
  type: 'cli' | 'user' | 'api_key' | 'system'
  id: string | null
  name: string | null
  ip: string | null
  userAgent: string | null
  requestId: string | null
}

/**
 * The audit record of an actor. Operators keep the `cli` type the log has always used; a user
 * is named by id (and email when the caller knows it), an API key by id and name.
 */
export function auditActorOf(actor: Actor): AuditActor {
  const origin = {ip: actor.origin.ip ?? null, userAgent: actor.origin.userAgent ?? null, requestId: actor.origin.requestId ?? null}
  const {principal} = actor
  switch (principal.kind) {
    case 'operator':
      return {type: 'cli', id: principal.name, name: principal.name, ...origin}
    case 'user':
      return {type: 'user', id: principal.userId || null, name: principal.email ?? null, ...origin}
    case 'api_key':
      return {type: 'api_key', id: principal.keyId, name: principal.name, ...origin}
    case 'system':
      return {type: 'system', id: null, name: principal.name, ...origin}
  }
}
