import type {PurgeHook} from '../shared/purge-hooks.js'

// The rows of the organization's own tables, deleted with it when it is purged (see purge-hooks.ts).
// Hooks run in reverse registration order: register customRolesPurgeHook before anything that
// points at a role (memberships, API keys), so those rows go first.

/** The org's memberships; for a deleted user, theirs in every org. */
export const membershipsPurgeHook: PurgeHook = {
  name: 'memberships',
  async purgeOrg(tx, orgId) {
    const result = await tx.deleteFrom('membership').where('org_id', '=', orgId).executeTakeFirst()
    return Number(result.numDeletedRows)
  },
  async purgeUser(tx, userId) {
    const result = await tx.deleteFrom('membership').where('user_id', '=', userId).executeTakeFirst()
    return Number(result.numDeletedRows)
  },
}

/** The org's custom roles with their permissions (built-in roles belong to no org and stay). */
export const customRolesPurgeHook: PurgeHook = {
  name: 'customRoles',
  async purgeOrg(tx, orgId) {
    await tx.deleteFrom('role_permission').where('role_id', 'in', tx.selectFrom('role').select('id').where('org_id', '=', orgId)).execute()
    const result = await tx.deleteFrom('role').where('org_id', '=', orgId).executeTakeFirst()
    return Number(result.numDeletedRows)
  },
}
