import type {PurgeHook} from '../shared/purge-hooks.js'

/** A purged organization's flag overrides (the flags themselves are global and stay). */
export const flagOverridesPurgeHook: PurgeHook = {
  name: 'flagOverrides',
  async purgeOrg(tx, orgId) {
    const result = await tx.deleteFrom('flag_override').where('org_id', '=', orgId).executeTakeFirst()
    return Number(result.numDeletedRows)
  },
}
