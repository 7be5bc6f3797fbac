import type {Kysely} from 'kysely'
import type {Actor} from '../access/principal.js'
import {userActor as actorOfUser} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database, SessionRow, UserAccountRow} from '../db/database.js'
import {lockUser} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {findMembershipRole, membershipsOfUserQuery, type UserMembership} from '../access/membership-repo.js'
import {prepareQuery} from '../db/prepared-query.js'
import {OWNER_ROLE_KEY} from '../access/role-repo.js'
import type {AccessTokenIssuer} from '../security/access-tokens.js'
import type {PasswordHasher} from '../security/password-hasher.js'
import {generateOpaqueToken, hashToken} from '../security/secure-token.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {findAvailableSlug} from '../tenancy/available-slug.js'
import {requireOrg, toOrganization, type Organization} from '../tenancy/org-repo.js'
import type {OrgService} from '../tenancy/org-service.js'
import {changePasswordSchema, loginSchema, refreshSchema, registerSchema, switchOrgSchema, type ChangePasswordInput, type LoginInput, type RefreshInput, type RegisterInput, type SwitchOrgInput} from './auth-schemas.js'
import type {RevocationSignal} from './revocation-signal.js'
import {toSession, truncate, type Session} from './session-repo.js'
import {revokeEverythingOfUser, revokeSessions} from './session-revocation.js'
import type {AuthContext} from './token-authenticator.js'
import {findUserByRef, normalizeEmail, requireUser, toUser, type User} from './user-repo.js'
import type {UserService} from './user-service.js'

export interface SessionPolicy {
  accessTokenTtlSeconds: number
  refreshTokenTtlSeconds: number
  maxSessionsPerUser: number
}

/** Where a request came from; recorded on sessions and in the audit log. */
export interface RequestContext {
  ip?: string | null
  userAgent?: string | null
  requestId?: string | null
}

/** What the token endpoints return (as JSON: access_token, token_type, expires_in, refresh_token). */
export interface TokenSet {
  accessToken: string
  tokenType: 'Bearer'
  expiresIn: number
  refreshToken: string
  sessionId: string
}


export type SessionService = ReturnType<typeof createSessionService>

interface SessionServiceDeps extends ServiceDeps {
  audit: AuditLog
  passwords: PasswordHasher
  tokens: AccessTokenIssuer
  orgs: OrgService
  users: UserService
  policy: SessionPolicy
  revocationSignal: RevocationSignal
}

/**
 * Registration, login, refresh-token rotation with reuse detection, org switching, sessions
 * and logout. Every session change is audited and every revocation logged for all daemons.
 */
export function createSessionService(deps: SessionServiceDeps) {
  const {db, audit, policy} = deps
  const invalidCredentials = () => new DomainError('auth.invalid_credentials', 'Invalid email or password')
  const timing = () => ({now: nowIso(deps), accessTokenTtlSeconds: policy.accessTokenTtlSeconds})
  const selectCallerWithSession = prepareQuery(db, 2, (sessionId: string, userId: string) =>
    db
      .selectFrom('session')
      .innerJoin('user_account', 'user_account.id', 'session.user_id')
      .selectAll('user_account')
      .select(['session.id as session_id', 'session.org_id as session_org_id', 'session.user_agent as session_user_agent', 'session.ip as session_ip', 'session.created_at as session_created_at', 'session.last_used_at as session_last_used_at', 'session.expires_at as session_expires_at', 'session.revoked_at as session_revoked_at'])
      .where('session.id', '=', sessionId)
      .where('session.user_id', '=', userId),
  )
  const selectLiveMemberships = prepareQuery(db, 1, (userId: string) => membershipsOfUserQuery(db, userId))
  const refreshExpiry = (now: string) => new Date(Date.parse(now) + policy.refreshTokenTtlSeconds * 1000).toISOString()

  function userActor(user: Pick<UserAccountRow, 'id' | 'email'>, context: RequestContext): Actor {
    return actorOfUser({userId: user.id, sessionId: '', orgId: null, email: user.email}, context)
  }

  /** The role key of an active membership in a live organization; raises auth.not_a_member, org.not_found, org.deleted. */
  async function requireMembershipRole(tx: Kysely<Database>, userId: string, orgRef: string): Promise<{org: Organization; role: string}> {
    const org = await requireOrg(tx, orgRef)
    const membership = await findMembershipRole(tx, org.id, userId)
    if (!membership) throw new DomainError('auth.not_a_member', `You are not a member of "${org.slug}"`)
    return {org: toOrganization(org), role: membership.roleKey}
  }

  /** Stores a fresh refresh token for a session; only its hash is kept. */
  async function issueRefreshToken(tx: Kysely<Database>, sessionId: string, now: string): Promise<string> {
    const refreshToken = generateOpaqueToken(32)
    await tx.insertInto('refresh_token').values({id: deps.newId(), session_id: sessionId, token_hash: hashToken(refreshToken), created_at: now, expires_at: refreshExpiry(now), rotated_at: null}).execute()
    return refreshToken
  }

  async function issueTokenSet(session: {id: string; userId: string; orgId: string | null; role: string | null}, refreshToken: string): Promise<TokenSet> {
    const access = await deps.tokens.issue({userId: session.userId, sessionId: session.id, orgId: session.orgId, role: session.role})
    return {accessToken: access.token, tokenType: 'Bearer', expiresIn: policy.accessTokenTtlSeconds, refreshToken, sessionId: session.id}
  }

  /**
   * Opens a session for a user inside the caller's transaction: revokes the oldest sessions
   * beyond the per-user limit, stores the refresh token hash, audits session.created.
   */
  async function openSession(tx: Kysely<Database>, user: Pick<UserAccountRow, 'id' | 'email'>, orgId: string | null, context: RequestContext): Promise<{sessionId: string; refreshToken: string; revokedSessions: number}> {
    await lockUser(tx, user.id)
    const now = nowIso(deps)
    const live = await tx
      .selectFrom('session')
      .select('id')
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute()
    const excess = live.slice(0, Math.max(0, live.length - policy.maxSessionsPerUser + 1)).map((session) => session.id)
    const actor = userActor(user, context)
    const revokedIds = await revokeSessions(tx, excess, 'session_limit', {now, accessTokenTtlSeconds: policy.accessTokenTtlSeconds})
    for (const id of revokedIds) {
      await audit.append(tx, actor, {action: 'session.revoked', orgId, target: {type: 'session', id}, metadata: {reason: 'session_limit'}})
    }
    const sessionId = deps.newId()
    await tx
      .insertInto('session')
      .values({id: sessionId, user_id: user.id, org_id: orgId, user_agent: truncate(context.userAgent, 512), ip: context.ip ?? null, created_at: now, last_used_at: now, expires_at: refreshExpiry(now), revoked_at: null, revoked_reason: null})
      .execute()
    const refreshToken = await issueRefreshToken(tx, sessionId, now)
    await audit.append(tx, actor, {action: 'session.created', orgId, target: {type: 'session', id: sessionId}, metadata: {user_agent: truncate(context.userAgent, 200)}})
    return {sessionId, refreshToken, revokedSessions: revokedIds.length}
  }

  /** A live session of the caller; raises auth.invalid_token when it was revoked or has expired. */
  async function requireLiveSession(tx: Kysely<Database>, auth: AuthContext): Promise<SessionRow> {
    const session = await tx.selectFrom('session').selectAll().where('id', '=', auth.sessionId).where('user_id', '=', auth.userId).executeTakeFirst()
    if (!session || session.revoked_at || session.expires_at <= nowIso(deps)) throw new DomainError('auth.invalid_token', 'The session has ended', {reason: 'session_revoked'})
    return session
  }

  async function requireCaller(tx: Kysely<Database>, auth: AuthContext): Promise<UserAccountRow> {
    const user = await findUserByRef(tx, auth.userId)
    if (!user || user.disabled_at) throw new DomainError('auth.invalid_token', 'The account is not active', {reason: 'user_revoked'})
    return user
  }

  /** Runs a transaction that revokes, then lets this process's cache catch up. */
  async function notifyingRevocations<Result>(work: (tx: Kysely<Database>) => Promise<Result>): Promise<Result> {
    const result = await inTransaction(db, work)
    await deps.revocationSignal.notify()
    return result
  }

  return {
    /**
     * Creates a user with a password and a personal organization they own, and logs them in,
     * in one transaction. Raises validation.failed, user.email_taken.
     */
    async register(context: RequestContext, input: RegisterInput): Promise<{user: User; org: Organization; tokens: TokenSet}> {
      const parsed = validateInput(registerSchema, input)
      const actor = (user: Pick<UserAccountRow, 'id' | 'email'>) => userActor(user, context)
      const passwordHash = await deps.passwords.hashPassword(parsed.password)
      const {user, org, sessionId, refreshToken} = await inTransaction(db, async (tx) => {
        const registrant: Actor = actorOfUser({userId: '', sessionId: '', orgId: null, email: parsed.email}, context)
        const {user} = await deps.users.createUser(registrant, {email: parsed.email, name: parsed.name}, tx, passwordHash)
        const orgName = parsed.org_name ?? `${parsed.name ?? parsed.email.split('@')[0]}'s workspace`
        const slug = await findAvailableSlug(tx, orgName)
        const {org} = await deps.orgs.createOrg(actor(user), {name: orgName, slug, owner: user.id}, tx)
        const opened = await openSession(tx, user, org.id, context)
        return {user, org, ...opened}
      })
      const tokens = await issueTokenSet({id: sessionId, userId: user.id, orgId: org.id, role: OWNER_ROLE_KEY}, refreshToken)
      return {user, org, tokens}
    },

    /**
     * Checks email and password and opens a session; with `org`, the tokens are bound to that
     * organization and carry the caller's role. Unknown email and wrong password fail alike
     * and cost the same (auth.invalid_credentials). Raises user.disabled, auth.not_a_member.
     */
    async login(context: RequestContext, input: LoginInput): Promise<TokenSet> {
      const parsed = validateInput(loginSchema, input)
      const user = await db.selectFrom('user_account').selectAll().where('email', '=', normalizeEmail(parsed.email)).executeTakeFirst()
      if (!user) {
        await deps.passwords.spendDummyVerification(parsed.password)
        throw invalidCredentials()
      }
      const verification = await deps.passwords.verifyPassword(user.password_hash, parsed.password)
      if (!verification.ok) throw invalidCredentials()
      if (user.disabled_at) throw new DomainError('user.disabled', 'This account is disabled')
      if (verification.needsRehash) {
        // The hashing parameters changed since this hash was made: upgrade it now we know the password.
        const rehashed = await deps.passwords.hashPassword(parsed.password)
        await db.updateTable('user_account').set({password_hash: rehashed}).where('id', '=', user.id).where('password_hash', '=', user.password_hash).execute()
      }
      const {sessionId, refreshToken, org, role, revokedSessions} = await inTransaction(db, async (tx) => {
        const binding = parsed.org ? await requireMembershipRole(tx, user.id, parsed.org) : null
        const opened = await openSession(tx, user, binding?.org.id ?? null, context)
        return {...opened, org: binding?.org ?? null, role: binding?.role ?? null}
      })
      if (revokedSessions > 0) await deps.revocationSignal.notify() // the session limit revoked the oldest
      return issueTokenSet({id: sessionId, userId: user.id, orgId: org?.id ?? null, role}, refreshToken)
    },

    /**
     * Exchanges a refresh token for new tokens and rotates it. Presenting a token that was
     * already exchanged revokes its whole session (theft detection), records
     * security.refresh_token_reuse and raises auth.refresh_token_reused. Raises
     * auth.invalid_refresh_token for unknown, expired or revoked ones.
     */
    async refresh(context: RequestContext, input: RefreshInput): Promise<TokenSet> {
      const parsed = validateInput(refreshSchema, input)
      const invalid = () => new DomainError('auth.invalid_refresh_token', 'The refresh token is invalid or expired')
      const outcome = await inTransaction(db, async (tx) => {
        const stored = await tx
          .selectFrom('refresh_token')
          .innerJoin('session', 'session.id', 'refresh_token.session_id')
          .innerJoin('user_account', 'user_account.id', 'session.user_id')
          .select(['refresh_token.id as tokenId', 'refresh_token.expires_at as tokenExpiresAt', 'refresh_token.rotated_at as rotatedAt', 'session.id as sessionId', 'session.org_id as orgId', 'session.revoked_at as sessionRevokedAt', 'session.expires_at as sessionExpiresAt', 'user_account.id as userId', 'user_account.email as email', 'user_account.disabled_at as disabledAt'])
          .where('refresh_token.token_hash', '=', hashToken(parsed.refresh_token))
          .executeTakeFirst()
        if (!stored) return {kind: 'invalid' as const}
        const now = nowIso(deps)
        // A session that has ended has nothing left to steal: its tokens are just invalid.
        const hasSessionEnded = Boolean(stored.sessionRevokedAt) || stored.sessionExpiresAt <= now
        if (hasSessionEnded || (!stored.rotatedAt && (stored.disabledAt || stored.tokenExpiresAt <= now))) return {kind: 'invalid' as const}
        // Claim the token atomically: of two concurrent refreshes with it, exactly one wins.
        const claimed = stored.rotatedAt
          ? 0
          : Number((await tx.updateTable('refresh_token').set({rotated_at: now}).where('id', '=', stored.tokenId).where('rotated_at', 'is', null).executeTakeFirst()).numUpdatedRows)
        if (claimed === 0) {
          await revokeSessions(tx, [stored.sessionId], 'refresh_token_reuse', {now, accessTokenTtlSeconds: policy.accessTokenTtlSeconds})
          await audit.append(tx, userActor({id: stored.userId, email: stored.email}, context), {
            action: 'security.refresh_token_reuse',
            orgId: stored.orgId,
            target: {type: 'session', id: stored.sessionId},
            metadata: {rotated_at: stored.rotatedAt, session_revoked: true},
          })
          return {kind: 'reused' as const}
        }
        const binding = stored.orgId ? await requireMembershipRole(tx, stored.userId, stored.orgId) : null
        await tx.updateTable('session').set({last_used_at: now, expires_at: refreshExpiry(now)}).where('id', '=', stored.sessionId).execute()
        const refreshToken = await issueRefreshToken(tx, stored.sessionId, now)
        return {kind: 'rotated' as const, session: {id: stored.sessionId, userId: stored.userId, orgId: stored.orgId, role: binding?.role ?? null}, refreshToken}
      })
      if (outcome.kind === 'reused') {
        await deps.revocationSignal.notify()
        throw new DomainError('auth.refresh_token_reused', 'The refresh token was already used; the session has been revoked')
      }
      if (outcome.kind === 'invalid') throw invalid()
      return issueTokenSet(outcome.session, outcome.refreshToken)
    },

    /** New tokens bound to another organization the caller belongs to; the session's older refresh tokens stop working. Raises auth.not_a_member, org.not_found. */
    async switchOrg(auth: AuthContext, context: RequestContext, input: SwitchOrgInput): Promise<TokenSet> {
      const parsed = validateInput(switchOrgSchema, input)
      const {refreshToken, org, role} = await inTransaction(db, async (tx) => {
        const user = await requireCaller(tx, auth)
        await requireLiveSession(tx, auth)
        const binding = await requireMembershipRole(tx, auth.userId, parsed.org)
        const now = nowIso(deps)
        await tx.updateTable('refresh_token').set({rotated_at: now}).where('session_id', '=', auth.sessionId).where('rotated_at', 'is', null).execute()
        await tx.updateTable('session').set({org_id: binding.org.id, last_used_at: now}).where('id', '=', auth.sessionId).execute()
        const refreshToken = await issueRefreshToken(tx, auth.sessionId, now)
        await audit.append(tx, userActor(user, context), {action: 'session.org_switched', orgId: binding.org.id, target: {type: 'session', id: auth.sessionId}, metadata: {from: auth.orgId, to: binding.org.id}})
        return {refreshToken, ...binding}
      })
      return issueTokenSet({id: auth.sessionId, userId: auth.userId, orgId: org.id, role}, refreshToken)
    },

    /** Ends the caller's session everywhere. */
    async logout(auth: AuthContext, context: RequestContext): Promise<void> {
      await notifyingRevocations(async (tx) => {
        const user = await requireCaller(tx, auth)
        const revoked = await revokeSessions(tx, [auth.sessionId], 'logout', timing())
        if (revoked.length > 0) await audit.append(tx, userActor(user, context), {action: 'session.revoked', orgId: auth.orgId, target: {type: 'session', id: auth.sessionId}, metadata: {reason: 'logout'}})
      })
    },

    /** Ends every session of the caller. Returns how many ended. */
    async logoutAll(auth: AuthContext, context: RequestContext): Promise<number> {
      return notifyingRevocations(async (tx) => {
        const user = await requireCaller(tx, auth)
        const sessions = await tx.selectFrom('session').select('id').where('user_id', '=', user.id).where('revoked_at', 'is', null).execute()
        const revoked = await revokeSessions(tx, sessions.map((session) => session.id), 'logout_all', timing())
        for (const id of revoked) await audit.append(tx, userActor(user, context), {action: 'session.revoked', target: {type: 'session', id}, metadata: {reason: 'logout_all'}})
        return revoked.length
      })
    },

    /** Live sessions of a user (email or id), newest first. Raises user.not_found. */
    async listSessions(userRef: string, currentSessionId?: string): Promise<Session[]> {
      const user = await requireUser(db, userRef, {allowDisabled: true})
      const rows = await db
        .selectFrom('session')
        .selectAll()
        .where('user_id', '=', user.id)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', nowIso(deps))
        .orderBy('created_at', 'desc')
        .execute()
      return rows.map((row) => ({...toSession(row), ...(currentSessionId ? {isCurrent: row.id === currentSessionId} : {})}))
    },

    /**
     * Revokes one session. With `ownerUserId` (a user revoking their own), a session of
     * someone else is reported as not found. Raises session.not_found.
     */
    async revokeSession(actor: Actor, sessionId: string, options: {ownerUserId?: string} = {}): Promise<Session> {
      return notifyingRevocations(async (tx) => {
        let query = tx.selectFrom('session').selectAll().where('id', '=', sessionId)
        if (options.ownerUserId) query = query.where('user_id', '=', options.ownerUserId)
        const session = await query.executeTakeFirst()
        if (!session) throw new DomainError('session.not_found', `No session "${sessionId}"`)
        const revoked = await revokeSessions(tx, [session.id], actor.principal.kind === 'operator' ? 'operator' : 'user', timing())
        if (revoked.length > 0) await audit.append(tx, actor, {action: 'session.revoked', orgId: session.org_id, target: {type: 'session', id: session.id}, metadata: {reason: actor.principal.kind === 'operator' ? 'operator' : 'user', user_id: session.user_id}})
        return toSession(session)
      })
    },

    /** Revokes every session of a user (email or id) and voids their live access tokens. Raises user.not_found. */
    async revokeAllSessionsOfUser(actor: Actor, userRef: string): Promise<number> {
      return notifyingRevocations(async (tx) => {
        const user = await requireUser(tx, userRef, {allowDisabled: true})
        const revoked = await revokeEverythingOfUser(tx, user.id, 'operator', timing())
        for (const id of revoked) await audit.append(tx, actor, {action: 'session.revoked', target: {type: 'session', id}, metadata: {reason: 'operator', user_id: user.id}})
        return revoked.length
      })
    },

    /** The caller, their memberships and their session. Raises auth.invalid_token when the session has ended. */
    async me(auth: AuthContext): Promise<{user: User; memberships: UserMembership[]; session: Session; activeOrgId: string | null; role: string | null}> {
      // One read for the caller and their session: this is the daemon's hottest authenticated route.
      const [row] = await selectCallerWithSession(auth.sessionId, auth.userId)
      if (!row || row.disabled_at) throw new DomainError('auth.invalid_token', 'The account is not active', {reason: 'user_revoked'})
      if (row.session_revoked_at || row.session_expires_at <= nowIso(deps)) throw new DomainError('auth.invalid_token', 'The session has ended', {reason: 'session_revoked'})
      const memberships = await selectLiveMemberships(row.id)
      const session: Session = {id: row.session_id, userId: row.id, orgId: row.session_org_id, userAgent: row.session_user_agent, ip: row.session_ip, createdAt: row.session_created_at, lastUsedAt: row.session_last_used_at, expiresAt: row.session_expires_at}
      return {user: toUser(row), memberships, session, activeOrgId: auth.orgId, role: auth.role}
    },

    /**
     * Changes the caller's password after checking the current one; every session and every
     * access token issued before ends, and a new session is opened. Raises auth.invalid_credentials.
     */
    async changePassword(auth: AuthContext, context: RequestContext, input: ChangePasswordInput): Promise<TokenSet> {
      const parsed = validateInput(changePasswordSchema, input)
      const current = await requireCaller(db, auth)
      if (!(await deps.passwords.verifyPassword(current.password_hash, parsed.current_password)).ok) throw invalidCredentials()
      const passwordHash = await deps.passwords.hashPassword(parsed.new_password)
      const {sessionId, refreshToken, role, orgId} = await inTransaction(db, async (tx) => {
        const user = await requireCaller(tx, auth)
        const now = nowIso(deps)
        await tx.updateTable('user_account').set({password_hash: passwordHash, password_changed_at: now, updated_at: now}).where('id', '=', user.id).execute()
        await revokeEverythingOfUser(tx, user.id, 'password_changed', {now, accessTokenTtlSeconds: policy.accessTokenTtlSeconds})
        await audit.append(tx, userActor(user, context), {action: 'user.password_changed', target: {type: 'user', id: user.id}, metadata: {}})
        const binding = auth.orgId ? await requireMembershipRole(tx, user.id, auth.orgId).catch(() => null) : null
        return {...(await openSession(tx, user, binding?.org.id ?? null, context)), role: binding?.role ?? null, orgId: binding?.org.id ?? null}
      })
      await deps.revocationSignal.notify()
      return issueTokenSet({id: sessionId, userId: auth.userId, orgId, role}, refreshToken)
    },

    /** How many sessions are live now (for metrics). */
    async countActiveSessions(): Promise<number> {
      const row = await db.selectFrom('session').select((eb) => eb.fn.countAll<number>().as('count')).where('revoked_at', 'is', null).where('expires_at', '>', nowIso(deps)).executeTakeFirstOrThrow()
      return Number(row.count)
    },
  }
}
