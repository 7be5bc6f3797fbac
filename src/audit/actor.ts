/**
 * Who is acting, and from where. Every service method takes one, and the audit log records it,
 * so the CLI and the daemon leave the same trail.
 */
export interface Actor {
  type: 'cli' | 'user' | 'api_key' | 'system'
  id: string | null
  name: string | null
  ip?: string | null
  userAgent?: string | null
  requestId?: string | null
}

/** An operator at the saas-ctl command line: they hold the database, so every rule but authorization applies. */
export function cliActor(osUserName: string): Actor {
  return {type: 'cli', id: osUserName, name: osUserName}
}

export const SYSTEM_ACTOR: Actor = {type: 'system', id: null, name: 'saas-ctl'}
