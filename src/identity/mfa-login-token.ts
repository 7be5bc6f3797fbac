import {createHash} from 'node:crypto'
import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {generateOpaqueToken, hashToken} from '../security/secure-token.js'
import type {ServiceDeps} from '../shared/service-deps.js'

// The mfa_token between the two steps of a 2FA login: random (256 bits), stored only as its
// hash in one_time_token (purpose mfa_login), usable until its expiry and exactly once for a
// correct code. Its data is what the password step settled, so the code step decides nothing
// the password step did not: the organization the login binds to, the identifier it is counted
// under, and which password hash it was checked against.

const PURPOSE = 'mfa_login'

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
export const passwordDigestOf = (passwordHash: string | null): string => createHash('sha256').update(passwordHash ?? '', 'utf8').digest('hex')

/** Stores a new mfa_token inside `tx`; returns it (shown once) and its lifetime. */
export async function issueMfaLoginToken(
  tx: Kysely<Database>,
  deps: Pick<ServiceDeps, 'clock' | 'newId'>,
  input: {userId: string; orgId: string | null; lockoutHash: string; passwordHash: string | null; ttlSeconds: number},
): Promise<{mfaToken: string; expiresIn: number}> {
  const mfaToken = generateOpaqueToken(32)
  const now = deps.clock.now()
  const data: StoredData = {org_id: input.orgId, identifier_hash: input.lockoutHash, password_digest: passwordDigestOf(input.passwordHash)}
  await tx
    .insertInto('one_time_token')
    .values({
      id: deps.newId(),
      purpose: PURPOSE,
      user_id: input.userId,
      token_hash: hashToken(mfaToken),
      email: null,
      data: JSON.stringify(data),
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + input.ttlSeconds * 1000).toISOString(),
      used_at: null,
    })
    .execute()
  return {mfaToken, expiresIn: input.ttlSeconds}
}

/** The pending login an mfa_token stands for; null when unknown, used or expired at `now`. */
export async function findPendingMfaLogin(db: Kysely<Database>, mfaToken: string, now: string): Promise<PendingMfaLogin | null> {
  const row = await db
    .selectFrom('one_time_token')
    .select(['id', 'user_id', 'data'])
    .where('token_hash', '=', hashToken(mfaToken))
    .where('purpose', '=', PURPOSE)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst()
  if (!row?.data) return null
  const data = JSON.parse(row.data) as StoredData
  return {id: row.id, userId: row.user_id, orgId: data.org_id, lockoutHash: data.identifier_hash, passwordDigest: data.password_digest}
}

/** Uses the token up; false when another request used it first. */
export async function useMfaLoginToken(tx: Kysely<Database>, id: string, now: string): Promise<boolean> {
  const result = await tx.updateTable('one_time_token').set({used_at: now}).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** A deleted user's pending 2FA logins. */
export async function deleteMfaLoginTokensOfUser(tx: Kysely<Database>, userId: string): Promise<number> {
  const result = await tx.deleteFrom('one_time_token').where('user_id', '=', userId).where('purpose', '=', PURPOSE).executeTakeFirst()
  return Number(result.numDeletedRows)
}
