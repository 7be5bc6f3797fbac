import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {ISSUED_AT_LEEWAY_SECONDS} from '../security/access-tokens.js'
import {appendRevocations, type NewRevocation} from './revocation-log.js'

export interface RevocationTiming {
  /** ISO now. */
  now: string
  /** Every access token alive now expires within this. */
  accessTokenTtlSeconds: number
}

/** Every access token accepted now expires by then: a lifetime, plus the leeway an iat may lie ahead of the clock. */
function blockUntil(timing: RevocationTiming): string {
  return new Date(Date.parse(timing.now) + (timing.accessTokenTtlSeconds + ISSUED_AT_LEEWAY_SECONDS) * 1000).toISOString()
}

/**
 * Revokes sessions: marks them revoked (so they can no longer refresh) and logs a revocation
 * for each (so every daemon refuses their access tokens). Returns the ids actually revoked;
 * sessions already revoked are left as they were.
 */
export async function revokeSessions(trx: Kysely<Database>, sessionIds: string[], reason: string, timing: RevocationTiming): Promise<string[]> {
  if (sessionIds.length === 0) return []
  const active = await trx.selectFrom('session').select('id').where('id', 'in', sessionIds).where('revoked_at', 'is', null).execute()
  const ids = active.map((session) => session.id)
  if (ids.length === 0) return []
  await trx.updateTable('session').set({revoked_at: timing.now, revoked_reason: reason}).where('id', 'in', ids).execute()
  await appendRevocations(
    trx,
    ids.map((id): NewRevocation => ({kind: 'session', subject: id, reason, createdAt: timing.now, expiresAt: blockUntil(timing)})),
  )
  return ids
}

/**
 * Voids everything a user holds: every live session, and every access token issued before now
 * (a "not before" entry), e.g. when the user is disabled, deleted or changes password.
 * Returns the ids of the sessions revoked.
 */
export async function revokeEverythingOfUser(trx: Kysely<Database>, userId: string, reason: string, timing: RevocationTiming): Promise<string[]> {
  const sessions = await trx.selectFrom('session').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute()
  const revoked = await revokeSessions(trx, sessions.map((session) => session.id), reason, timing)
  await appendRevocations(trx, [{kind: 'user', subject: userId, notBefore: timing.now, reason, createdAt: timing.now, expiresAt: blockUntil(timing)}])
  return revoked
}

/** The subject of a 'membership' revocation. */
export function membershipSubject(orgId: string, userId: string): string {
  return `${orgId}:${userId}`
}

/**
 * Voids the user's access tokens bound to one organization (a demotion or a removal), so
 * introspection everywhere reports them inactive; tokens bound elsewhere live on, and the user
 * refreshes or switches to get a token with the role as it is now.
 */
export async function revokeMembershipTokens(trx: Kysely<Database>, membership: {orgId: string; userId: string}, reason: string, timing: RevocationTiming): Promise<void> {
  await appendRevocations(trx, [{kind: 'membership', subject: membershipSubject(membership.orgId, membership.userId), notBefore: timing.now, reason, createdAt: timing.now, expiresAt: blockUntil(timing)}])
}

/** Voids every access token bound to the organization (it was deleted). */
export async function revokeOrgTokens(trx: Kysely<Database>, orgId: string, reason: string, timing: RevocationTiming): Promise<void> {
  await appendRevocations(trx, [{kind: 'org', subject: orgId, notBefore: timing.now, reason, createdAt: timing.now, expiresAt: blockUntil(timing)}])
}
