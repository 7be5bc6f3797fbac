import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'

/**
 * What a feature deletes when an organization or a user is deleted for good. Each feature
 * registers its own hook in createCore, so deleting an org or a user needs no hand-written list
 * of every table that points at it (SQLite cannot add ON DELETE CASCADE to an existing table
 * without rebuilding it). Hooks run inside the deleting transaction, in registration order
 * reversed (dependents before what they depend on). Audit events are never purged.
 */
export interface PurgeHook {
  /** The name the purge result reports its count under (`memberships`, `customRoles`, …). */
  name: string
  /** Deletes the org's rows of this feature; returns how many. */
  purgeOrg?(tx: Kysely<Database>, orgId: string): Promise<number>
  /** Deletes the user's rows of this feature; returns how many. */
  purgeUser?(tx: Kysely<Database>, userId: string): Promise<number>
}

export type PurgeHooks = ReturnType<typeof createPurgeHooks>

export function createPurgeHooks() {
  const hooks: PurgeHook[] = []
  async function run(kind: 'purgeOrg' | 'purgeUser', tx: Kysely<Database>, id: string): Promise<Record<string, number>> {
    const removed: Record<string, number> = {}
    for (const hook of [...hooks].reverse()) {
      const purge = hook[kind]
      if (purge) removed[hook.name] = (removed[hook.name] ?? 0) + (await purge.call(hook, tx, id))
    }
    return removed
  }
  return {
    register(hook: PurgeHook): void {
      hooks.push(hook)
    },
    /** Runs every feature's org hook inside `tx`; returns the counts by hook name. */
    purgeOrg: (tx: Kysely<Database>, orgId: string) => run('purgeOrg', tx, orgId),
    /** Runs every feature's user hook inside `tx`; returns the counts by hook name. */
    purgeUser: (tx: Kysely<Database>, userId: string) => run('purgeUser', tx, userId),
  }
}
