import type {Kysely} from 'kysely'
import {isOwnerGrant} from '../access/authorize.js'
import {requireOrgPermission, requirePlatformActor, resolveOrgAccess} from '../access/org-access.js'
import type {Actor} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database} from '../db/database.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import type {RevocationSignal} from '../identity/revocation-signal.js'
import {revokeOrgTokens} from '../identity/session-revocation.js'
import type {PurgeHooks} from '../shared/purge-hooks.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {findOrgByRef, toOrganization, type Organization} from './org-repo.js'
import {orgRefInputSchema, type OrgRefInput} from './org-schemas.js'

export interface OrgLifecycleDeps extends ServiceDeps {
  audit: AuditLog
  /** What each feature deletes with an organization (memberships, custom roles, flag overrides, API keys…). */
  purgeHooks: PurgeHooks
  revocationSignal: RevocationSignal
  accessTokenTtlSeconds: number
}

/** Soft delete, restore and purge of organizations: the part of the org service that ends tokens. */
export function createOrgLifecycle(deps: OrgLifecycleDeps) {
  const {db, audit} = deps
  const timing = () => ({now: nowIso(deps), accessTokenTtlSeconds: deps.accessTokenTtlSeconds})

  /** Runs a transaction that revokes tokens, then lets this process's revocation cache catch up at once. */
  async function revokingTransaction<Result>(work: (tx: Kysely<Database>) => Promise<Result>): Promise<Result> {
    const result = await inTransaction(db, work)
    await deps.revocationSignal.notify()
    return result
  }

  return {
    /**
     * Soft-deletes (org.delete): the organization and its data stay, hidden from its members,
     * until restored or purged; every token bound to it stops working. Raises org.not_found,
     * org.deleted (operators), permission.denied, auth.org_mismatch.
     */
    async deleteOrg(actor: Actor, input: OrgRefInput): Promise<Organization> {
      const {org: ref} = validateInput(orgRefInputSchema, input)
      return revokingTransaction(async (tx) => {
        // Locked, and read again under the lock: of two concurrent deletes, the second sees the first.
        const {org: row} = await requireOrgPermission(tx, actor, ref, 'org.delete', {lockOrg: true})
        const when = timing()
        await tx.updateTable('organization').set({deleted_at: when.now, updated_at: when.now}).where('id', '=', row.id).execute()
        // Dated once the org row is ours: a login that read it (share-locked, see org-binding.ts)
        // has committed by now, and its token, dated at that read, falls before this revocation.
        await revokeOrgTokens(tx, row.id, 'org_deleted', timing())
        await audit.append(tx, actor, {action: 'org.deleted', orgId: row.id, target: {type: 'org', id: row.id}, metadata: {slug: row.slug}})
        return toOrganization({...row, deleted_at: when.now, updated_at: when.now})
      })
    },

    /**
     * Undoes a soft delete: for its owners with any of their tokens (bound to it or not), and
     * platform principals. Raises org.not_found (anyone else), org.not_deleted, permission.denied
     * (a member of a live org who is not an owner).
     */
    async restoreOrg(actor: Actor, input: OrgRefInput): Promise<Organization> {
      const {org: ref} = validateInput(orgRefInputSchema, input)
      return inTransaction(db, async (tx) => {
        const access = await resolveOrgAccess(tx, actor, ref, {deleted: 'owners', ignoreBinding: true})
        const row = access.org
        if (!isOwnerGrant(access.grant)) throw new DomainError('permission.denied', `Only an owner may restore "${row.slug}"`)
        if (!row.deleted_at) throw new DomainError('org.not_deleted', `Organization "${row.slug}" is not deleted`)
        const now = nowIso(deps)
        await tx.updateTable('organization').set({deleted_at: null, updated_at: now}).where('id', '=', row.id).execute()
        await audit.append(tx, actor, {action: 'org.restored', orgId: row.id, target: {type: 'org', id: row.id}, metadata: {slug: row.slug}})
        return toOrganization({...row, deleted_at: null, updated_at: now})
      })
    },

    /**
     * Deletes an organization for good, live or soft-deleted (platform principals only), with
     * everything its features registered as theirs (see purge-hooks.ts); every token bound to
     * it stops working. The audit log keeps its events. Raises platform.required, org.not_found.
     */
    async purgeOrg(actor: Actor, input: OrgRefInput): Promise<{org: Organization; removed: Record<string, number>}> {
      const {org: ref} = validateInput(orgRefInputSchema, input)
      return revokingTransaction(async (tx) => {
        await requirePlatformActor(tx, actor, 'purge organizations')
        const row = await findOrgByRef(tx, ref)
        if (!row) throw new DomainError('org.not_found', `No organization "${ref}"`)
        const removed = await deps.purgeHooks.purgeOrg(tx, row.id)
        await tx.deleteFrom('organization').where('id', '=', row.id).execute()
        await revokeOrgTokens(tx, row.id, 'org_purged', timing())
        await audit.append(tx, actor, {action: 'org.purged', orgId: row.id, target: {type: 'org', id: row.id}, metadata: {slug: row.slug, name: row.name, removed}})
        return {org: toOrganization(row), removed}
      })
    },
  }
}
