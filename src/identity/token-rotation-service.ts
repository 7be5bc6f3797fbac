import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {lockUser} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import type {TenantResolutionOptions} from '../tenancy/tenant-resolution.js'
import {hashToken} from '../security/secure-token.js'
import {nowIso} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {refreshSchema, switchOrgSchema, type RefreshInput, type SwitchOrgInput} from './auth-schemas.js'
import type {TenantHints} from './authentication-service.js'
import {assertSecondFactorPolicy, type LoginDeps} from './login-completion.js'
import {requireMemberBindingByRef, resolveRequestedBinding, type OrgBinding} from './org-binding.js'
import {claimRefreshToken, findRefreshTokenByHash, type StoredRefreshToken} from './refresh-token-repo.js'
import type {AccessTokenSet, RequestContext, SessionDeps, SessionIssuance, TokenSet} from './session-issuance.js'
import {touchSession} from './session-repo.js'
import {revokeSessions} from './session-revocation.js'
import type {AuthContext} from './token-authenticator.js'

export type TokenRotationService = ReturnType<typeof createTokenRotationService>

interface TokenRotationDeps extends SessionDeps {
  issuance: SessionIssuance
  /** How a request's host names an organization (base_domain, the daemon's own host). */
  tenancy: TenantResolutionOptions
  /**
   * Whether the user has 2FA on, for organizations that require it; whether an unverified
   * address may keep a session (require_verified_email).
   */
  login: Pick<LoginDeps, 'secondFactor' | 'requireVerifiedEmail'>
}

type Exchange = {kind: 'invalid'} | {kind: 'reused'} | {kind: 'rotated'; stored: StoredRefreshToken; now: string}

const invalidRefreshToken = () => new DomainError('auth.invalid_refresh_token', 'The refresh token is invalid or expired')
const emailNotVerified = () => new DomainError('auth.email_not_verified', 'Verify your email address to keep using this session')
const refreshTokenReused = () => new DomainError('auth.refresh_token_reused', 'The refresh token was already used; the session has been revoked')

/**
 * Refresh-token rotation with reuse detection, and switching the organization a session's
 * tokens are bound to.
 */
export function createTokenRotationService(deps: TokenRotationDeps) {
  const {db, audit, issuance} = deps

  /**
   * Claims a refresh token inside `tx` (at most one exchange of a token ever succeeds).
   * Presenting one that was already exchanged revokes its session and audits
   * security.refresh_token_reuse. With `sessionId`, a token of another session is 'invalid'.
   */
  async function exchangeRefreshToken(tx: Kysely<Database>, refreshToken: string, context: RequestContext, sessionId?: string): Promise<Exchange> {
    const tokenHash = hashToken(refreshToken)
    const found = await findRefreshTokenByHash(tx, tokenHash)
    if (!found || (sessionId !== undefined && found.sessionId !== sessionId)) return {kind: 'invalid'}
    // Read it again under the user row lock (first in the lock order): a disable or a password
    // change that committed since the first read is seen, and one that starts now waits for this
    // exchange and then ends the session.
    await lockUser(tx, found.userId)
    const stored = await findRefreshTokenByHash(tx, tokenHash)
    if (!stored) return {kind: 'invalid'}
    const now = nowIso(deps)
    // A session that has ended (revoked, idle past its sliding expiry, or older than its absolute
    // lifetime) has nothing left to steal: its tokens are just invalid.
    const hasSessionEnded = Boolean(stored.sessionRevokedAt) || stored.sessionExpiresAt <= now || issuance.isPastAbsoluteLifetime(stored.sessionCreatedAt, now)
    if (hasSessionEnded || (!stored.rotatedAt && (stored.disabledAt || stored.tokenExpiresAt <= now))) return {kind: 'invalid'}
    if (!stored.rotatedAt && (await claimRefreshToken(tx, stored.tokenId, now))) return {kind: 'rotated', stored, now}
    await revokeSessions(tx, [stored.sessionId], 'refresh_token_reuse', issuance.timing(now))
    await audit.append(tx, issuance.actorOf({id: stored.userId, email: stored.email}, context), {
      action: 'security.refresh_token_reuse',
      orgId: stored.orgId,
      target: {type: 'session', id: stored.sessionId},
      metadata: {rotated_at: stored.rotatedAt, session_revoked: true},
    })
    return {kind: 'reused'}
  }

  /** Throws what a failed exchange means; a reuse is committed first (the session stays revoked). */
  async function refuseExchange(outcome: Exclude<Exchange, {kind: 'rotated'}>): Promise<never> {
    if (outcome.kind === 'reused') {
      await deps.revocationSignal.notify()
      throw refreshTokenReused()
    }
    throw invalidRefreshToken()
  }

  return {
    /**
     * Exchanges a refresh token for new tokens and rotates it. Presenting a token that was
     * already exchanged revokes its whole session (theft detection), records
     * security.refresh_token_reuse and raises auth.refresh_token_reused. Raises
     * auth.invalid_refresh_token for unknown, expired or revoked ones (also when the session is
     * older than session_absolute_ttl_seconds: its sliding expiry never goes past that), and org.not_found when
     * the caller is no longer a member of the organization the session is bound to. The policy
     * a login meets holds for the session's life too: auth.mfa_enrollment_required (403) when the
     * organization the session is bound to requires 2FA and the user has it off, and
     * auth.email_not_verified (403) with require_verified_email while the user's address is
     * unverified (also after a change to a new one). A refused refresh changes nothing: the
     * refresh token stays usable once the user meets the policy.
     */
    async refresh(context: RequestContext, input: RefreshInput): Promise<TokenSet> {
      const parsed = validateInput(refreshSchema, input)
      const outcome = await inTransaction(db, async (tx) => {
        const exchange = await exchangeRefreshToken(tx, parsed.refreshToken, context)
        if (exchange.kind !== 'rotated') return exchange
        const {stored, now} = exchange
        const binding = stored.orgId ? await requireMemberBindingByRef(tx, stored.userId, stored.orgId) : null
        if (deps.login.requireVerifiedEmail && !stored.emailVerifiedAt) throw emailNotVerified()
        await assertSecondFactorPolicy(tx, deps.login.secondFactor, binding, stored.userId)
        const issuedAt = issuance.issuedAtNow()
        await touchSession(tx, stored.sessionId, {now, expiresAt: issuance.refreshExpiry(now, stored.sessionCreatedAt)})
        const refreshToken = await issuance.issueRefreshToken(tx, stored.sessionId, now, stored.sessionCreatedAt)
        return {kind: 'issued' as const, session: {id: stored.sessionId, userId: stored.userId, orgId: stored.orgId, role: binding?.role ?? null, issuedAt}, refreshToken}
      })
      if (outcome.kind !== 'issued') return refuseExchange(outcome)
      return issuance.issueTokenSet(outcome.session, outcome.refreshToken)
    },

    /**
     * An access token bound to another organization the caller belongs to, named by the body's
     * `org`, else X-Tenant-Slug / X-Tenant-ID, else the host. With the session's current
     * refresh token, the token rotates, the session is rebound (later refreshes keep the new
     * organization) and both tokens are returned; without one, only an access token is
     * returned and the session keeps its binding: an access token alone never mints a refresh
     * token. The organizations named answer as at login (org.not_found for any the caller is
     * not in, existing or not); an organization that requires 2FA, for a user without it, is
     * auth.mfa_enrollment_required. Raises validation.failed (no organization named), tenant.ambiguous, org.not_found,
     * auth.invalid_token (session ended), auth.invalid_refresh_token (not this session's, or
     * expired), auth.refresh_token_reused.
     */
    async switchOrg(auth: AuthContext, context: RequestContext, input: SwitchOrgInput, tenant: TenantHints = {}): Promise<AccessTokenSet & {refreshToken?: string}> {
      const parsed = validateInput(switchOrgSchema, input)
      const outcome = await inTransaction(db, async (tx) => {
        await lockUser(tx, auth.userId) // a disable racing the switch orders before it, or waits and ends the session
        const user = await issuance.requireCaller(tx, auth)
        const session = await issuance.requireLiveSession(tx, auth)
        const binding: OrgBinding | null = await resolveRequestedBinding(tx, auth.userId, {...tenant, bodyOrg: parsed.org}, deps.tenancy)
        if (!binding) throw new DomainError('validation.failed', 'Name the organization: org in the body, X-Tenant-Slug, X-Tenant-ID or the host', {problems: [{in: 'body', field: 'org', message: 'is required'}]})
        await assertSecondFactorPolicy(tx, deps.login.secondFactor, binding, auth.userId)
        const issuedAt = issuance.issuedAtNow()
        const now = issuedAt.toISOString()
        let refreshToken: string | undefined
        if (parsed.refreshToken !== undefined) {
          const exchange = await exchangeRefreshToken(tx, parsed.refreshToken, context, auth.sessionId)
          if (exchange.kind !== 'rotated') return exchange
          await touchSession(tx, auth.sessionId, {now, expiresAt: issuance.refreshExpiry(now, session.created_at), orgId: binding.org.id})
          refreshToken = await issuance.issueRefreshToken(tx, auth.sessionId, now, session.created_at)
        } else {
          await touchSession(tx, auth.sessionId, {now})
        }
        await audit.append(tx, issuance.actorOf(user, context, auth.sessionId), {
          action: 'session.org_switched',
          orgId: binding.org.id,
          target: {type: 'session', id: auth.sessionId},
          // Not the org switched from: this event is in the new org's audit log, which its admins
          // read, and which other orgs the user belongs to is none of their business.
          metadata: {to: binding.org.id, refresh_token_rotated: refreshToken !== undefined},
        })
        return {kind: 'switched' as const, binding, refreshToken, issuedAt}
      })
      if (outcome.kind !== 'switched') return refuseExchange(outcome)
      const session = {id: auth.sessionId, userId: auth.userId, orgId: outcome.binding.org.id, role: outcome.binding.role, issuedAt: outcome.issuedAt}
      if (outcome.refreshToken === undefined) return issuance.issueAccessToken(session)
      return issuance.issueTokenSet(session, outcome.refreshToken)
    },
  }
}
