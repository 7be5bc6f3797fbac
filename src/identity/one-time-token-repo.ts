import type {Kysely} from 'kysely'
import type {Database, OneTimeTokenPurpose, OneTimeTokenRow} from '../db/database.js'
import {generateOpaqueToken, hashToken} from '../security/secure-token.js'
import type {ServiceDeps} from '../shared/service-deps.js'

/**
 * Links and steps that work once (email verification, password reset, …): 256 random bits,
 * only the SHA-256 hash is stored, each can be claimed once, and its expiry is judged here by
 * the server's clock, never by anything the client sends.
 */

export interface IssuedOneTimeToken {
  /** The secret that goes into the link; never stored. */
  token: string
  id: string
  expiresAt: string
}

export interface NewOneTimeToken {
  purpose: OneTimeTokenPurpose
  userId: string
  /** The address the token is about (a verification verifies it; a later change voids it). */
  email?: string | null
  data?: Record<string, unknown> | null
  ttlSeconds: number
}

/** Stores a fresh token's hash inside `tx` and returns the token itself, once. */
export async function insertOneTimeToken(tx: Kysely<Database>, deps: Pick<ServiceDeps, 'clock' | 'newId'>, input: NewOneTimeToken): Promise<IssuedOneTimeToken> {
  const token = generateOpaqueToken(32)
  const now = deps.clock.now()
  const id = deps.newId()
  const expiresAt = new Date(now.getTime() + input.ttlSeconds * 1000).toISOString()
  await tx
    .insertInto('one_time_token')
    .values({
      id,
      purpose: input.purpose,
      user_id: input.userId,
      token_hash: hashToken(token),
      email: input.email ?? null,
      data: input.data ? JSON.stringify(input.data) : null,
      created_at: now.toISOString(),
      expires_at: expiresAt,
      used_at: null,
    })
    .execute()
  return {token, id, expiresAt}
}

/**
 * The unused, unexpired token of `purpose` whose hash matches `token`; null for anything else
 * (unknown, used, expired, another purpose), so callers give one answer for all of them.
 */
export async function findLiveOneTimeToken(db: Kysely<Database>, purpose: OneTimeTokenPurpose, token: string, now: string): Promise<OneTimeTokenRow | null> {
  const row = await db
    .selectFrom('one_time_token')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst()
  return row ?? null
}

/**
 * Uses a token up: one conditional update (still unused and unexpired at `now`), so of two
 * concurrent claims exactly one wins. True when this call claimed it.
 */
export async function claimOneTimeToken(tx: Kysely<Database>, tokenId: string, now: string): Promise<boolean> {
  const result = await tx.updateTable('one_time_token').set({used_at: now}).where('id', '=', tokenId).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Voids every unused token of a user and purpose (a newer one replaces them); returns how many. */
export async function voidOneTimeTokens(tx: Kysely<Database>, userId: string, purpose: OneTimeTokenPurpose, now: string): Promise<number> {
  const result = await tx.updateTable('one_time_token').set({used_at: now}).where('user_id', '=', userId).where('purpose', '=', purpose).where('used_at', 'is', null).executeTakeFirst()
  return Number(result.numUpdatedRows)
}

/** Deletes a user's tokens of `purposes` (the user is deleted); returns how many. */
export async function deleteOneTimeTokensOfUser(tx: Kysely<Database>, userId: string, purposes: OneTimeTokenPurpose[]): Promise<number> {
  const result = await tx.deleteFrom('one_time_token').where('user_id', '=', userId).where('purpose', 'in', purposes).executeTakeFirst()
  return Number(result.numDeletedRows)
}
