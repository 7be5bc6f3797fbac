import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {hashToken} from '../security/secure-token.js'
import type {ServiceDeps} from '../shared/service-deps.js'
import {claimOneTimeToken, deleteOneTimeTokensOfUser, findLiveOneTimeToken, insertOneTimeToken} from './one-time-token-repo.js'

// The mfa_token between the two steps of a 2FA login: a one-time token (one-time-token-repo:
// 256 random bits, stored only as its hash) of purpose mfa_login, usable until its expiry and exactly once for a
// correct code. Its data is what the password step settled, so the code step decides nothing
// the password step did not: the organization the login binds to, the identifier it is counted
// under, and which password hash it was checked against.

const PURPOSE = 'mfa_login' as const

export interface PendingMfaLogin {
  id: string
  userId: string
  /** The organization the password step resolved (body, headers or host), or null. */
  orgId: string | null
  /** The login identifier (hashed normalized email) the lock is keyed by. */
  lockoutHash: string
  /** SHA-256 of the password hash the password step checked: a password change since voids the token. */
  passwordDigest: string
}

interface StoredData {
  org_id: string | null
  identifier_hash: string
  password_digest: string
}

/** SHA-256 of a stored password hash (so one_time_token holds no copy of the hash itself). */
export const passwordDigestOf = (passwordHash: string | null): string => hashToken(passwordHash ?? '')

/** Stores a new mfa_token inside `tx`; returns it (shown once) and its lifetime. */
export async function issueMfaLoginToken(
  tx: Kysely<Database>,
  deps: Pick<ServiceDeps, 'clock' | 'newId'>,
  input: {userId: string; orgId: string | null; lockoutHash: string; passwordHash: string | null; ttlSeconds: number},
): Promise<{mfaToken: string; expiresIn: number}> {
  const data: StoredData = {org_id: input.orgId, identifier_hash: input.lockoutHash, password_digest: passwordDigestOf(input.passwordHash)}
  const {token} = await insertOneTimeToken(tx, deps, {purpose: PURPOSE, userId: input.userId, data: {...data}, ttlSeconds: input.ttlSeconds})
  return {mfaToken: token, expiresIn: input.ttlSeconds}
}

/** The pending login an mfa_token stands for; null when unknown, used or expired at `now`. */
export async function findPendingMfaLogin(db: Kysely<Database>, mfaToken: string, now: string): Promise<PendingMfaLogin | null> {
  const row = await findLiveOneTimeToken(db, PURPOSE, mfaToken, now)
  if (!row?.data) return null
  const data = JSON.parse(row.data) as StoredData
  return {id: row.id, userId: row.user_id, orgId: data.org_id, lockoutHash: data.identifier_hash, passwordDigest: data.password_digest}
}

/** Uses the token up; false when another request used it first (or it expired meanwhile). */
export const useMfaLoginToken = (tx: Kysely<Database>, id: string, now: string): Promise<boolean> => claimOneTimeToken(tx, id, now)

/** A deleted user's pending 2FA logins. */
export const deleteMfaLoginTokensOfUser = (tx: Kysely<Database>, userId: string): Promise<number> => deleteOneTimeTokensOfUser(tx, userId, [PURPOSE])
