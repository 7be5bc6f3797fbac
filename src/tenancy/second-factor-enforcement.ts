import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import type {SecondFactor} from '../identity/second-factor.js'
import {revokeMembershipTokens, revokeSessions, type RevocationTiming} from '../identity/session-revocation.js'

/** The reason recorded on what an organization turning require_2fa on revokes. */
export const REQUIRE_2FA_REVOCATION_REASON = 'org_requires_2fa'

/**
 * Inside the transaction that turns an organization's require_2fa on: every member without 2FA
 * loses what they hold in it, through the revocation log (so every daemon refuses it): their
 * access tokens bound to the organization (a 'membership' revocation, as a removal appends) and
 * their sessions bound to it (opened by a password alone, they must not refresh into the
 * organization once the user enrols). They log in again, with 2FA on, to come back. Returns how
 * many members and sessions it revoked.
 */
export async function revokeMembersWithoutSecondFactor(
  tx: Kysely<Database>,
  secondFactor: Pick<SecondFactor, 'isEnabled'>,
  orgId: string,
  timing: RevocationTiming,
): Promise<{membersRevoked: number; sessionsRevoked: number}> {
  const members = await tx.selectFrom('membership').select('user_id').where('org_id', '=', orgId).orderBy('user_id').execute()
  const withoutSecondFactor = new Set<string>()
  for (const {user_id: userId} of members) {
    if (!(await secondFactor.isEnabled(tx, userId))) withoutSecondFactor.add(userId)
  }
  if (withoutSecondFactor.size === 0) return {membersRevoked: 0, sessionsRevoked: 0}
  for (const userId of withoutSecondFactor) await revokeMembershipTokens(tx, {orgId, userId}, REQUIRE_2FA_REVOCATION_REASON, timing)
  const sessions = await tx.selectFrom('session').select(['id', 'user_id']).where('org_id', '=', orgId).where('revoked_at', 'is', null).execute()
  const revoked = await revokeSessions(
    tx,
    sessions.filter((session) => withoutSecondFactor.has(session.user_id)).map((session) => session.id),
    REQUIRE_2FA_REVOCATION_REASON,
    timing,
  )
  return {membersRevoked: withoutSecondFactor.size, sessionsRevoked: revoked.length}
}
