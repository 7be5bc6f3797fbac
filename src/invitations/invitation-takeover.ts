import type {Kysely} from 'kysely'
import type {Database, InvitationRow} from '../db/database.js'
import {findPendingInvitationOf, isLive} from './invitation-repo.js'

/**
 * When an operator adds someone directly who has a live invitation to the org, the add uses the
 * invitation up: the membership takes the seat the invitation held (so a full org can still take
 * them), and the link stops working. Call both inside the add's transaction, under the org lock.
 */
export async function findHeldInvitation(tx: Kysely<Database>, orgId: string, email: string, now: string): Promise<InvitationRow | null> {
  const row = await findPendingInvitationOf(tx, orgId, email)
  return row && isLive(row, now) ? row : null
}

/** Marks the invitation accepted by the user the direct add made a member. */
export async function useUpInvitation(tx: Kysely<Database>, invitationId: string, userId: string, now: string): Promise<void> {
  await tx.updateTable('invitation').set({status: 'accepted', accepted_at: now, accepted_user_id: userId}).where('id', '=', invitationId).where('status', '=', 'pending').execute()
}
