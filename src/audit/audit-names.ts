import {sql, type Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import type {AuditEvent} from './audit-log.js'

/** What the ids of a page of events name now: org slugs and user emails, by id. */
export interface AuditNames {
  orgSlugs: ReadonlyMap<string, string>
  userEmails: ReadonlyMap<string, string>
}

export type AuditNameResolver = ReturnType<typeof createAuditNameResolver>

/**
 * Names for the ids in audit events, as an operator reads them (`audit tail`). The log keeps ids
 * only (names change, and a purged org or deleted user leaves its events behind); this looks them
 * up as they are now. Soft-deleted organizations keep their slug; ids with no row are left out.
 */
export function createAuditNameResolver(deps: {db: Kysely<Database>}) {
  return {
    /**
     * The slugs of the organizations and the emails of the users that a page of events names
     * (event org, org or user actor and target), in one query whatever the page's size.
     */
    async namesOf(events: readonly AuditEvent[]): Promise<AuditNames> {
      const orgIds = new Set<string>()
      const userIds = new Set<string>()
      for (const event of events) {
        if (event.orgId) orgIds.add(event.orgId)
        if (event.actor.type === 'user' && event.actor.id) userIds.add(event.actor.id)
        if (event.target?.id && event.target.type === 'org') orgIds.add(event.target.id)
        if (event.target?.id && event.target.type === 'user') userIds.add(event.target.id)
      }
      const orgSlugs = new Map<string, string>()
      const userEmails = new Map<string, string>()
      if (orgIds.size === 0 && userIds.size === 0) return {orgSlugs, userEmails}
      // Both lookups in one round trip (a union), each side only when it has ids to look up.
      const orgQuery = deps.db.selectFrom('organization').select([sql.lit('org').as('kind'), 'id', 'slug as name']).where('id', 'in', [...orgIds])
      const userQuery = deps.db.selectFrom('user_account').select([sql.lit('user').as('kind'), 'id', 'email as name']).where('id', 'in', [...userIds])
      const query = orgIds.size === 0 ? userQuery : userIds.size === 0 ? orgQuery : orgQuery.unionAll(userQuery)
      const rows = await query.execute()
      for (const row of rows) (row.kind === 'org' ? orgSlugs : userEmails).set(row.id, row.name)
      return {orgSlugs, userEmails}
    },
  }
}
