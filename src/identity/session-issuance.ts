import type {Kysely} from 'kysely'
import {userActor, type Actor, type RequestOrigin} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database, SessionRow, UserAccountRow} from '../db/database.js'
import {lockUser} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import type {AccessTokenIssuer} from '../security/access-tokens.js'
import type {PasswordHasher} from '../security/password-hasher.js'
import {generateOpaqueToken, hashToken} from '../security/secure-token.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {insertRefreshToken} from './refresh-token-repo.js'
import type {RevocationSignal} from './revocation-signal.js'
import {findSession, insertSession, liveSessionIdsOldestFirst, truncate} from './session-repo.js'
import {revokeSessions, type RevocationTiming} from './session-revocation.js'
import type {AuthContext} from './token-authenticator.js'
import {findUserByRef} from './user-repo.js'

export interface SessionPolicy {
  accessTokenTtlSeconds: number
  /** The sliding lifetime: each refresh extends the session by this much… */
  refreshTokenTtlSeconds: number
  /** …but never past this long after its login (its created_at). */
  sessionAbsoluteTtlSeconds: number
  maxSessionsPerUser: number
}

/** Where a request came from; recorded on sessions and in the audit log. */
export type RequestContext = RequestOrigin

/** An access token of a session (as JSON: access_token, token_type, expires_in, session_id). */
export interface AccessTokenSet {
  accessToken: string
  tokenType: 'Bearer'
  expiresIn: number
  sessionId: string
}

/** What the token endpoints return: an access token and the session's new refresh token. */
export interface TokenSet extends AccessTokenSet {
  refreshToken: string
}

/** What a token is issued for: the session, and the organization and role it is bound to. */
export interface SessionBinding {
  id: string
  userId: string
  orgId: string | null
  role: string | null
  /**
   * When the role was read (inside the transaction, after the membership read; see
   * issuedAtNow). The token counts as issued then, so a removal or demotion that commits
   * between that read and the signing (its revocation dated later) still voids it.
   */
  issuedAt: Date
  /**
   * Whether the user's email is verified (the email_verified claim). When not given, it is read
   * from the user's row as the token is signed.
   */
  emailVerified?: boolean
}

export interface SessionDeps extends ServiceDeps {
  audit: AuditLog
  passwords: PasswordHasher
  tokens: AccessTokenIssuer
  policy: SessionPolicy
  revocationSignal: RevocationSignal
}

export type SessionIssuance = ReturnType<typeof createSessionIssuance>

/**
 * What the three session services share: opening sessions, issuing refresh and access
 * tokens, the caller's checks, and revocations that this process's cache sees at once.
 */
export function createSessionIssuance(deps: SessionDeps) {
  const {db, audit, policy} = deps
  /** When a session that began at `sessionCreatedAt` ends for good, however often it refreshes. */
  const absoluteExpiry = (sessionCreatedAt: string) => new Date(Date.parse(sessionCreatedAt) + policy.sessionAbsoluteTtlSeconds * 1000).toISOString()
  /**
   * The sliding expiry of a session (and of its refresh token) used at `now`: the refresh TTL
   * from now, but never past the session's absolute lifetime.
   */
  const refreshExpiry = (now: string, sessionCreatedAt: string = now) =>
    new Date(Math.min(Date.parse(now) + policy.refreshTokenTtlSeconds * 1000, Date.parse(absoluteExpiry(sessionCreatedAt)))).toISOString()
  /** Whether a session begun at `sessionCreatedAt` has outlived its absolute lifetime at `now`. */
  const isPastAbsoluteLifetime = (sessionCreatedAt: string, now: string) => Date.parse(absoluteExpiry(sessionCreatedAt)) <= Date.parse(now)
  const timing = (now = nowIso(deps)): RevocationTiming => ({now, accessTokenTtlSeconds: policy.accessTokenTtlSeconds})

  /** The user as the actor of their own session changes (the audit log names them). */
  function actorOf(user: Pick<UserAccountRow, 'id' | 'email'>, context: RequestContext, sessionId = ''): Actor {
    return userActor({userId: user.id, sessionId, orgId: null, email: user.email}, context)
  }

  /** Stores a fresh refresh token for a session begun at `sessionCreatedAt`; only its hash is kept. */
  async function issueRefreshToken(tx: Kysely<Database>, sessionId: string, now: string, sessionCreatedAt: string): Promise<string> {
    const refreshToken = generateOpaqueToken(32)
    await insertRefreshToken(tx, {id: deps.newId(), session_id: sessionId, token_hash: hashToken(refreshToken), created_at: now, expires_at: refreshExpiry(now, sessionCreatedAt), rotated_at: null})
    return refreshToken
  }

  /** The email_verified claim of a user's next token, read now. */
  async function readEmailVerified(userId: string): Promise<boolean> {
    const row = await db.selectFrom('user_account').select('email_verified_at').where('id', '=', userId).executeTakeFirst()
    return Boolean(row?.email_verified_at)
  }

  async function issueAccessToken(session: SessionBinding): Promise<AccessTokenSet> {
    const emailVerified = session.emailVerified ?? (await readEmailVerified(session.userId))
    const access = await deps.tokens.issue({userId: session.userId, sessionId: session.id, orgId: session.orgId, role: session.role, issuedAt: session.issuedAt, emailVerified})
    return {accessToken: access.token, tokenType: 'Bearer', expiresIn: policy.accessTokenTtlSeconds, sessionId: session.id}
  }

  async function issueTokenSet(session: SessionBinding, refreshToken: string): Promise<TokenSet> {
    const access = await issueAccessToken(session)
    return {accessToken: access.accessToken, tokenType: access.tokenType, expiresIn: access.expiresIn, refreshToken, sessionId: access.sessionId}
  }

  /** The issue time of a token whose rights were just read in this transaction (call it after the read). */
  const issuedAtNow = (): Date => deps.clock.now()

  return {
    policy,
    refreshExpiry,
    isPastAbsoluteLifetime,
    timing,
    issuedAtNow,
    actorOf,
    issueRefreshToken,
    issueAccessToken,
    issueTokenSet,

    /**
     * Opens a session for a user inside the caller's transaction: revokes the oldest sessions
     * beyond the per-user limit, stores the refresh token hash, audits session.created.
     */
    async openSession(tx: Kysely<Database>, user: Pick<UserAccountRow, 'id' | 'email'>, orgId: string | null, context: RequestContext): Promise<{sessionId: string; refreshToken: string; revokedSessions: number}> {
      await lockUser(tx, user.id)
      const now = nowIso(deps)
      const live = await liveSessionIdsOldestFirst(tx, user.id, now)
      const excess = live.slice(0, Math.max(0, live.length - policy.maxSessionsPerUser + 1))
      const actor = actorOf(user, context)
      const revokedIds = await revokeSessions(tx, excess, 'session_limit', timing(now))
      for (const id of revokedIds) {
        await audit.append(tx, actor, {action: 'session.revoked', orgId, target: {type: 'session', id}, metadata: {reason: 'session_limit'}})
      }
      const sessionId = deps.newId()
      await insertSession(tx, {id: sessionId, user_id: user.id, org_id: orgId, user_agent: truncate(context.userAgent, 512), ip: context.ip ?? null, created_at: now, last_used_at: now, expires_at: refreshExpiry(now), revoked_at: null, revoked_reason: null})
      const refreshToken = await issueRefreshToken(tx, sessionId, now, now)
      await audit.append(tx, actor, {action: 'session.created', orgId, target: {type: 'session', id: sessionId}, metadata: {user_agent: truncate(context.userAgent, 200)}})
      return {sessionId, refreshToken, revokedSessions: revokedIds.length}
    },

    /** A live session of the caller; raises auth.invalid_token when it was revoked or has expired (sliding or absolute). */
    async requireLiveSession(tx: Kysely<Database>, auth: Pick<AuthContext, 'sessionId' | 'userId'>): Promise<SessionRow> {
      const session = await findSession(tx, auth.sessionId, auth.userId)
      const now = nowIso(deps)
      if (!session || session.revoked_at || session.expires_at <= now || isPastAbsoluteLifetime(session.created_at, now)) throw new DomainError('auth.invalid_token', 'The session has ended', {reason: 'session_revoked'})
      return session
    },

    /** The caller's account; raises auth.invalid_token when it is gone or disabled. */
    async requireCaller(tx: Kysely<Database>, auth: Pick<AuthContext, 'userId'>): Promise<UserAccountRow> {
      const user = await findUserByRef(tx, auth.userId)
      if (!user || user.disabled_at) throw new DomainError('auth.invalid_token', 'The account is not active', {reason: 'user_revoked'})
      return user
    },

    /** Runs a transaction that revokes, then lets this process's cache catch up. */
    async notifyingRevocations<Result>(work: (tx: Kysely<Database>) => Promise<Result>): Promise<Result> {
      const result = await inTransaction(db, work)
      await deps.revocationSignal.notify()
      return result
    },
  }
}
