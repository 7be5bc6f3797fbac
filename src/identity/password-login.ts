import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {validateInput} from '../shared/validate.js'
import type {OrgService} from '../tenancy/org-service.js'
import type {TenantResolutionOptions} from '../tenancy/tenant-resolution.js'
import {loginSchema, type LoginInput} from './auth-schemas.js'
import type {TenantHints} from './authentication-service.js'
import {assertSecondFactorPolicy, invalidCredentials, type LoginCompletion, type LoginCompletionDeps} from './login-completion.js'
import {loginIdentifierHash, WRONG_GUESS, type LoginAttempt} from './login-guard.js'
import {issueMfaLoginToken} from './mfa-login-token.js'
import {resolveRequestedBinding} from './org-binding.js'
import type {RequestContext, TokenSet} from './session-issuance.js'
import {findUserByEmail, replacePasswordHash} from './user-repo.js'

/** What the password step answers: the tokens, or the mfa_token the code step needs. */
export type LoginStep = {mfaRequired: false; tokens: TokenSet} | {mfaRequired: true; mfaToken: string; expiresIn: number}

interface PasswordLoginDeps extends LoginCompletionDeps {
  orgs: OrgService
  completion: LoginCompletion
  /** How a request's host names an organization (base_domain, the daemon's own host). */
  tenancy: TenantResolutionOptions
}

/** Login with email and password: the first (often only) step of a session. */
export function createPasswordLogin(deps: PasswordLoginDeps) {
  const {db, completion, login} = deps

  /**
   * The password step of a login. Checks email and password and, for an account without 2FA,
   * opens a session (`{mfaRequired: false, tokens}`); for one with 2FA on, answers
   * `{mfaRequired: true, mfaToken}` and no tokens: loginWithSecondFactor completes it with a
   * code. When the request names an organization (body `org`, else X-Tenant-Slug /
   * X-Tenant-ID, else its host), the tokens are bound to it and carry the caller's role.
   *
   * Unknown email and wrong password fail alike and cost the same (auth.invalid_credentials),
   * whatever organization the request names; both are counted per identifier and IP and toward
   * the identifier's lock (see login-guard.ts): each attempt is reserved (recorded and counted)
   * before its password is checked, so concurrent guesses cannot overrun either. Over the
   * minute's budget, while the identifier is locked or its reserved failures reach the
   * threshold, every attempt is 429 auth.too_many_attempts before the password is even checked;
   * a lock that commits while a right password is being checked answers it
   * auth.invalid_credentials, like a wrong one (never a late 429). Only with the password
   * right: user.disabled, auth.email_not_verified (require_verified_email), org.not_found (an organization that does not exist, a deleted one
   * and one the caller is not a member of alike, also when another source names one of the
   * caller's), tenant.ambiguous (only when every source names one of the caller's and they
   * differ), auth.mfa_enrollment_required (the organization requires 2FA, the user has none).
   * A password change, a disable or a lockout that commits after the password check refuses
   * the login: the account is read again in the session's transaction.
   */
  async function beginLogin(context: RequestContext, input: LoginInput, tenant: TenantHints = {}): Promise<LoginStep> {
    const parsed = validateInput(loginSchema, input)
    const identifierHash = loginIdentifierHash(parsed.email)
    const user = await findUserByEmail(db, parsed.email)
    const attempt: LoginAttempt = {step: 'login', identifierHash, lockoutHash: identifierHash, user, origin: context}
    // Reserved before the password is checked (login-guard.ts): concurrent guesses cannot
    // overrun the minute's budget or the lock while argon2 runs.
    const outcome = await login.guard.guarded(
      attempt,
      async (reservation) => {
        if (!user) {
          await deps.passwords.spendDummyVerification(parsed.password)
          return WRONG_GUESS
        }
        const verification = await deps.passwords.verifyPassword(user.password_hash, parsed.password)
        if (!verification.ok) return WRONG_GUESS
        const verifiedHash = user.password_hash
        // The hashing parameters changed since this hash was made: upgrade it now we know the
        // password (hashed here, outside the transaction: argon2 must not hold the write lock).
        const rehashed = verification.needsRehash && verifiedHash ? await deps.passwords.hashPassword(parsed.password) : null
        // The organization is looked at only now, with the credentials checked: how a login with a
        // wrong password fails says nothing about the organizations it names.
        return inTransaction(db, async (tx) => {
          // The password was checked against a hash read before this transaction: read the
          // account again under its row lock (a password change, disable or lockout since refuses).
          const current = await completion.recheckAccount(tx, {userId: user.id, lockoutHash: identifierHash, isPasswordUnchanged: (hash) => hash === verifiedHash, passwordChanged: invalidCredentials})
          if (rehashed && verifiedHash) await replacePasswordHash(tx, user.id, verifiedHash, rehashed)
          const binding = await resolveRequestedBinding(tx, user.id, {...tenant, bodyOrg: parsed.org}, deps.tenancy)
          // Read under the user row lock, after the re-check: a 2FA turned on meanwhile is not skipped.
          if (!(await login.secondFactor.isEnabled(tx, user.id))) {
            await assertSecondFactorPolicy(tx, login.secondFactor, binding, user.id)
            return {kind: 'opened' as const, opened: await completion.openLoginSession(tx, current, binding, reservation)}
          }
          // The password step of a 2FA login passed: only its own reservation is taken back, the
          // failure count goes on until the code.
          await login.guard.confirmSuccess(tx, reservation, {isLoginComplete: false})
          const passwordHash = rehashed ?? verifiedHash
          return {kind: 'mfa' as const, challenge: await issueMfaLoginToken(tx, deps, {userId: user.id, orgId: binding?.org.id ?? null, lockoutHash: identifierHash, passwordHash, ttlSeconds: login.mfaTokenTtlSeconds})}
        })
      },
      invalidCredentials,
    )
    if (outcome.kind === 'mfa') return {mfaRequired: true, ...outcome.challenge}
    return {mfaRequired: false, tokens: await completion.issueLoginTokens(outcome.opened)}
  }

  return {
    beginLogin,

    /**
     * beginLogin for callers that cannot take a second step (scripts, tests): the tokens, or
     * auth.mfa_required for an account with 2FA on. Raises what beginLogin raises.
     */
    async login(context: RequestContext, input: LoginInput, tenant: TenantHints = {}): Promise<TokenSet> {
      const step = await beginLogin(context, input, tenant)
      if (step.mfaRequired) throw new DomainError('auth.mfa_required', 'This account has two-factor authentication on: complete the login with POST /v1/auth/login/2fa')
      return step.tokens
    },
  }
}
