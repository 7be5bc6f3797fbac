import type {UserMembership} from '../access/membership-repo.js'
import {membershipsOfUserQuery} from '../access/membership-repo.js'
import {requirePlatformActor} from '../access/org-access.js'
import type {Actor} from '../access/principal.js'
import {prepareQuery} from '../db/prepared-query.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {assertNewPassword} from '../security/password-policy.js'
import {nowIso} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {changePasswordSchema, type ChangePasswordInput} from './auth-schemas.js'
import {requireMemberBindingByRef} from './org-binding.js'
import type {PasswordConfirmation} from './password-confirmation.js'
import type {RequestContext, SessionDeps, SessionIssuance, TokenSet} from './session-issuance.js'
import {callerWithSessionQuery, countLiveSessions, findSession, listLiveSessions, toSession, unrevokedSessionIds, type Session} from './session-repo.js'
import {revokeEverythingOfUser, revokeSessions} from './session-revocation.js'
import type {AuthContext} from './token-authenticator.js'
import {requireUser, setPasswordHash, toUser, type User} from './user-repo.js'
import {userRefSchema, type UserRefInput} from './user-schemas.js'
import {z} from 'zod'

export type SessionAdminService = ReturnType<typeof createSessionAdminService>

// Not trimmed: a session id has no spaces, so one with spaces is simply not found.
const sessionRefSchema = z.object({session: z.string().min(1, 'must not be empty').max(100)})
export type SessionRefInput = z.input<typeof sessionRefSchema>

/**
 * Sessions as their owner and operators see them: listing, revoking, logout, the caller's
 * profile (me) and the password change that ends every session.
 */
export function createSessionAdminService(deps: SessionDeps & {issuance: SessionIssuance; passwordConfirmation: PasswordConfirmation}) {
  const {db, audit, issuance} = deps
  const selectCallerWithSession = prepareQuery(db, 2, (sessionId: string, userId: string) => callerWithSessionQuery(db, sessionId, userId))
  const selectLiveMemberships = prepareQuery(db, 1, (userId: string) => membershipsOfUserQuery(db, userId))
  const requirePlatform = (actor: Actor, what: string) => requirePlatformActor(db, actor, what)

  return {
    /**
     * Live sessions of a user (email or id), newest first: a user lists their own (the one
     * they act through is marked isCurrent), platform principals anyone's. Raises
     * platform.required, user.not_found.
     */
    async listSessions(actor: Actor, input: UserRefInput): Promise<Session[]> {
      const {user: ref} = validateInput(userRefSchema, input)
      const {principal} = actor
      const isOwn = principal.kind === 'user' && principal.userId === ref
      if (!isOwn) await requirePlatform(actor, "list another user's sessions")
      const user = await requireUser(db, ref, {allowDisabled: true})
      const rows = await listLiveSessions(db, user.id, nowIso(deps))
      return rows.map((row) => ({...toSession(row), ...(isOwn && principal.kind === 'user' ? {isCurrent: row.id === principal.sessionId} : {})}))
    },

    /**
     * Revokes one session. A user may revoke only their own (anyone else's is reported as
     * session.not_found); platform principals any. Raises session.not_found, platform.required.
     */
    async revokeSession(actor: Actor, input: SessionRefInput): Promise<Session> {
      const {session: sessionId} = validateInput(sessionRefSchema, input)
      const {principal} = actor
      const ownerUserId = principal.kind === 'user' ? principal.userId : undefined
      if (ownerUserId === undefined) await requirePlatform(actor, "revoke another user's session")
      const reason = ownerUserId === undefined ? 'operator' : 'user'
      return issuance.notifyingRevocations(async (tx) => {
        const session = await findSession(tx, sessionId, ownerUserId)
        if (!session) throw new DomainError('session.not_found', `No session "${sessionId}"`)
        const revoked = await revokeSessions(tx, [session.id], reason, issuance.timing())
        if (revoked.length > 0) await audit.append(tx, actor, {action: 'session.revoked', orgId: session.org_id, target: {type: 'session', id: session.id}, metadata: {reason, user_id: session.user_id}})
        return toSession(session)
      })
    },

    /**
     * Revokes every session of a user (email or id) and voids their live access tokens.
     * Returns how many sessions ended. Raises platform.required, user.not_found.
     */
    async revokeAllSessionsOfUser(actor: Actor, input: UserRefInput): Promise<number> {
      const {user: ref} = validateInput(userRefSchema, input)
      return issuance.notifyingRevocations(async (tx) => {
        await requirePlatformActor(tx, actor, "revoke a user's sessions")
        const user = await requireUser(tx, ref, {allowDisabled: true})
        const revoked = await revokeEverythingOfUser(tx, user.id, 'operator', issuance.timing())
        for (const id of revoked) await audit.append(tx, actor, {action: 'session.revoked', target: {type: 'session', id}, metadata: {reason: 'operator', user_id: user.id}})
        return revoked.length
      })
    },

    /** Ends the caller's session everywhere. */
    async logout(auth: AuthContext, context: RequestContext): Promise<void> {
      await issuance.notifyingRevocations(async (tx) => {
        const user = await issuance.requireCaller(tx, auth)
        const revoked = await revokeSessions(tx, [auth.sessionId], 'logout', issuance.timing())
        if (revoked.length > 0) await audit.append(tx, issuance.actorOf(user, context, auth.sessionId), {action: 'session.revoked', orgId: auth.orgId, target: {type: 'session', id: auth.sessionId}, metadata: {reason: 'logout'}})
      })
    },

    /** Ends every session of the caller. Returns how many ended. */
    async logoutAll(auth: AuthContext, context: RequestContext): Promise<number> {
      return issuance.notifyingRevocations(async (tx) => {
        const user = await issuance.requireCaller(tx, auth)
        const revoked = await revokeSessions(tx, await unrevokedSessionIds(tx, user.id), 'logout_all', issuance.timing())
        for (const id of revoked) await audit.append(tx, issuance.actorOf(user, context, auth.sessionId), {action: 'session.revoked', target: {type: 'session', id}, metadata: {reason: 'logout_all'}})
        return revoked.length
      })
    },

    /**
     * The caller, their memberships and their session, and whether their email is verified now
     * (a token's email_verified claim tells how it was when the token was issued). Raises
     * auth.invalid_token when the session has ended.
     */
    async me(auth: AuthContext): Promise<{user: User; memberships: UserMembership[]; session: Session; activeOrgId: string | null; role: string | null; emailVerified: boolean}> {
      // One read for the caller and their session: this is the daemon's hottest authenticated route.
      const [row] = await selectCallerWithSession(auth.sessionId, auth.userId)
      if (!row || row.disabled_at) throw new DomainError('auth.invalid_token', 'The account is not active', {reason: 'user_revoked'})
      if (row.session_revoked_at || row.session_expires_at <= nowIso(deps)) throw new DomainError('auth.invalid_token', 'The session has ended', {reason: 'session_revoked'})
      const memberships = await selectLiveMemberships(row.id)
      const session: Session = {id: row.session_id, userId: row.id, orgId: row.session_org_id, userAgent: row.session_user_agent, ip: row.session_ip, createdAt: row.session_created_at, lastUsedAt: row.session_last_used_at, expiresAt: row.session_expires_at}
      return {user: toUser(row), memberships, session, activeOrgId: auth.orgId, role: auth.role, emailVerified: row.email_verified_at !== null}
    },

    /**
     * Changes the caller's password after checking the current one; every session and every
     * access token issued before ends, and a new session is opened (bound to the caller's
     * organization while they are still a member). The new password must pass the policy for
     * new passwords. Raises auth.invalid_credentials, password.too_weak.
     */
    async changePassword(auth: AuthContext, context: RequestContext, input: ChangePasswordInput): Promise<TokenSet> {
      const parsed = validateInput(changePasswordSchema, input)
      const current = await issuance.requireCaller(db, auth)
      await deps.passwordConfirmation.confirmPassword(current, parsed.currentPassword, context)
      assertNewPassword(parsed.newPassword, {email: current.email, field: 'new_password'})
      const passwordHash = await deps.passwords.hashPassword(parsed.newPassword)
      const {sessionId, refreshToken, role, orgId, issuedAt} = await inTransaction(db, async (tx) => {
        const user = await issuance.requireCaller(tx, auth)
        const now = nowIso(deps)
        await setPasswordHash(tx, user.id, passwordHash, now)
        await revokeEverythingOfUser(tx, user.id, 'password_changed', issuance.timing(now))
        await audit.append(tx, issuance.actorOf(user, context, auth.sessionId), {action: 'user.password_changed', target: {type: 'user', id: user.id}, metadata: {}})
        const binding = auth.orgId ? await requireMemberBindingByRef(tx, user.id, auth.orgId).catch(() => null) : null
        const issuedAt = issuance.issuedAtNow()
        return {...(await issuance.openSession(tx, user, binding?.org.id ?? null, context)), role: binding?.role ?? null, orgId: binding?.org.id ?? null, issuedAt}
      })
      await deps.revocationSignal.notify()
      return issuance.issueTokenSet({id: sessionId, userId: auth.userId, orgId, role, issuedAt}, refreshToken)
    },

    /** How many sessions are live now (for metrics). */
    countActiveSessions: (): Promise<number> => countLiveSessions(db, nowIso(deps)),
  }
}
