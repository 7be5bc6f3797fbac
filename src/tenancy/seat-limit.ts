import {sql, type Kysely} from 'kysely'
import type {Database, OrganizationRow} from '../db/database.js'
import {sharedQuery} from '../db/prepared-query.js'
import {DomainError} from '../errors/domain-error.js'
import {effectiveOrgLimits, type TierTable} from './tiers.js'

/** What takes an organization's seats: its members and its pending invitations not yet expired. */
export interface SeatUsage {
  members: number
  pendingInvitations: number
  /** members + pendingInvitations */
  used: number
  /** The effective seat limit; null: unlimited. */
  limit: number | null
}

/** How the seats of an organization are taken now (`now`: the server's clock, ISO). */
export async function countSeats(db: Kysely<Database>, tiers: TierTable, org: OrganizationRow, now: string): Promise<SeatUsage> {
  const [members] = (await countMembersQuery(db, org.id)).rows
  const [pending] = (await countLiveInvitationsQuery(db, org.id, now)).rows
  const [memberCount, pendingCount] = [Number(members!.count), Number(pending!.count)]
  return {members: memberCount, pendingInvitations: pendingCount, used: memberCount + pendingCount, limit: effectiveOrgLimits(tiers, org).seats}
}

// Both counts compiled once (sharedQuery): every member add and invitation runs them. 'pending'
// is written in the SQL, not bound: a bound status makes SQLite prepare the statement again on
// every run (the partial index on pending invitations must be considered anew).
const countMembersQuery = sharedQuery(1, (db, orgId: string) => (db as Kysely<Database>).selectFrom('membership').select((eb) => eb.fn.countAll<number>().as('count')).where('org_id', '=', orgId))
const countLiveInvitationsQuery = sharedQuery(2, (db, orgId: string, now: string) =>
  (db as Kysely<Database>)
    .selectFrom('invitation')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('org_id', '=', orgId)
    .where('status', '=', sql.lit('pending'))
    .where('expires_at', '>', now),
)

export interface SeatRequest {
  /**
   * 'new': a seat that is not taken yet (a direct add, an invitation, a resend of an expired
   * one): members plus pending invitations must stay within the limit.
   * 'held': the acceptance of a pending invitation, which already holds its seat: refused only
   * when the members alone already fill the limit (a limit lowered below the seats in use).
   */
  kind: 'new' | 'held'
}

/**
 * Raises org.seat_limit when the organization cannot take one more seat of this kind. Call it
 * with the org row locked (requireOrgPermission(..., {lockOrg: true}) or lockOrganization), in
 * the transaction that then writes the membership or invitation, so concurrent adds, invites and
 * accepts are counted one at a time. Operators and platform principals are bound too.
 */
export async function assertSeatAvailable(tx: Kysely<Database>, tiers: TierTable, org: OrganizationRow, now: string, request: SeatRequest = {kind: 'new'}): Promise<SeatUsage> {
  const usage = await countSeats(tx, tiers, org, now)
  if (usage.limit === null) return usage
  const taken = request.kind === 'held' ? usage.members : usage.used
  if (taken + 1 > usage.limit) {
    throw new DomainError('org.seat_limit', `"${org.slug}" has no seat left: ${usage.members} member(s) and ${usage.pendingInvitations} pending invitation(s) of ${usage.limit}`, {
      limit: usage.limit,
      members: usage.members,
      pending_invitations: usage.pendingInvitations,
    })
  }
  return usage
}
