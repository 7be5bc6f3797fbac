import type {Kysely} from 'kysely'
import type {Database, RefreshTokenRow} from '../db/database.js'

/** A stored refresh token with what its exchange needs to know about its session and user. */
export interface StoredRefreshToken {
  tokenId: string
  tokenExpiresAt: string
  rotatedAt: string | null
  sessionId: string
  orgId: string | null
  sessionRevokedAt: string | null
  sessionExpiresAt: string
  sessionCreatedAt: string
  userId: string
  email: string
  disabledAt: string | null
  /** When the user's current address was verified (null: it is not). */
  emailVerifiedAt: string | null
}

export async function insertRefreshToken(db: Kysely<Database>, row: RefreshTokenRow): Promise<void> {
  await db.insertInto('refresh_token').values(row).execute()
}

/** The refresh token with this hash, joined to its session and user; null when there is none. */
export async function findRefreshTokenByHash(db: Kysely<Database>, tokenHash: string): Promise<StoredRefreshToken | null> {
  const row = await db
    .selectFrom('refresh_token')
    .innerJoin('session', 'session.id', 'refresh_token.session_id')
    .innerJoin('user_account', 'user_account.id', 'session.user_id')
    .select([
      'refresh_token.id as tokenId',
      'refresh_token.expires_at as tokenExpiresAt',
      'refresh_token.rotated_at as rotatedAt',
      'session.id as sessionId',
      'session.org_id as orgId',
      'session.revoked_at as sessionRevokedAt',
      'session.expires_at as sessionExpiresAt',
      'session.created_at as sessionCreatedAt',
      'user_account.id as userId',
      'user_account.email as email',
      'user_account.disabled_at as disabledAt',
      'user_account.email_verified_at as emailVerifiedAt',
    ])
    .where('refresh_token.token_hash', '=', tokenHash)
    .executeTakeFirst()
  return row ?? null
}

/**
 * Marks the token exchanged, unless it already was. Of two concurrent exchanges of one token
 * exactly one gets true: the other sees it rotated (a reuse).
 */
export async function claimRefreshToken(db: Kysely<Database>, tokenId: string, now: string): Promise<boolean> {
  const result = await db.updateTable('refresh_token').set({rotated_at: now}).where('id', '=', tokenId).where('rotated_at', 'is', null).executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}
