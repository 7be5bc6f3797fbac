import type {PurgeHook} from '../shared/purge-hooks.js'

/**
 * An organization's invitations go with it. A deleted user's traces in others' invitations are
 * cut (who invited, who accepted); invitations addressed to their email stay with their org.
 */
export const invitationsPurgeHook: PurgeHook = {
  name: 'invitations',
  async purgeOrg(tx, orgId) {
    const result = await tx.deleteFrom('invitation').where('org_id', '=', orgId).executeTakeFirst()
    return Number(result.numDeletedRows)
  },
  async purgeUser(tx, userId) {
    await tx.updateTable('invitation').set({invited_by_id: null, invited_by_name: null}).where('invited_by_type', '=', 'user').where('invited_by_id', '=', userId).execute()
    await tx.updateTable('invitation').set({accepted_user_id: null}).where('accepted_user_id', '=', userId).execute()
    return 0
  },
}
