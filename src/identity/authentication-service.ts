import {userActor} from '../access/principal.js'
import {OWNER_ROLE_KEY} from '../access/role-repo.js'
import {lockUser} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {assertNewPassword} from '../security/password-policy.js'
import {validateInput} from '../shared/validate.js'
import {findAvailableSlug} from '../tenancy/available-slug.js'
import type {Organization} from '../tenancy/org-repo.js'
import type {OrgService} from '../tenancy/org-service.js'
import type {TenantRequest, TenantResolutionOptions} from '../tenancy/tenant-resolution.js'
import {loginSchema, registerSchema, type LoginInput, type RegisterInput} from './auth-schemas.js'
import {resolveRequestedBinding} from './org-binding.js'
import type {EmailVerificationService} from './email-verification-service.js'
import {assertSelfRegistrationAllowed, type RegistrationPolicy} from './registration-policy.js'
import type {RequestContext, SessionDeps, SessionIssuance, TokenSet} from './session-issuance.js'
import {insertNewUser, withUniqueEmail} from './user-creation.js'
import {findUserByEmail, findUserById, replacePasswordHash, type User} from './user-repo.js'
import {createUserSchema} from './user-schemas.js'

/** Where a login or switch-org may also find its organization besides the body: headers and host. */
export type TenantHints = Omit<TenantRequest, 'bodyOrg'>

export type AuthenticationService = ReturnType<typeof createAuthenticationService>

/** What registration needs besides the session machinery. */
export interface RegistrationDeps {
  /** Setting `registration`: whether anyone may register. */
  registration: RegistrationPolicy
  /** Mails the new account its verification link. */
  emailVerification: Pick<EmailVerificationService, 'sendVerification'>
}

interface AuthenticationDeps extends SessionDeps, RegistrationDeps {
  orgs: OrgService
  issuance: SessionIssuance
  /** How a request's host names an organization (base_domain, the daemon's own host). */
  tenancy: TenantResolutionOptions
}

/** Registration and login: the two ways a session begins with a password. */
export function createAuthenticationService(deps: AuthenticationDeps) {
  const {db, issuance} = deps
  const invalidCredentials = () => new DomainError('auth.invalid_credentials', 'Invalid email or password')

  return {
    /**
     * Creates a user with a password and a personal organization they own, mails them a link
     * to verify their address, and logs them in, in one transaction. Anyone may register (no
     * principal is needed) while the setting `registration` is open; invite_only and closed
     * refuse with registration.closed. The password must pass the policy for new passwords.
     * Raises registration.closed, validation.failed, password.too_weak, user.email_taken.
     */
    async register(context: RequestContext, input: RegisterInput): Promise<{user: User; org: Organization; tokens: TokenSet}> {
      assertSelfRegistrationAllowed(deps.registration)
      const parsed = validateInput(registerSchema, input)
      const newUser = validateInput(createUserSchema, {email: parsed.email, name: parsed.name})
      assertNewPassword(parsed.password, {email: parsed.email})
      // Hashed before the transaction: argon2 is slow on purpose and must not hold the write lock.
      const passwordHash = await deps.passwords.hashPassword(parsed.password)
      const {user, org, sessionId, refreshToken, issuedAt} = await withUniqueEmail(parsed.email, () =>
        inTransaction(db, async (tx) => {
          const registrant = userActor({userId: '', sessionId: '', orgId: null, email: parsed.email}, context)
          const {user} = await insertNewUser(tx, deps, registrant, newUser, passwordHash)
          await deps.emailVerification.sendVerification(tx, user)
          const orgName = parsed.orgName ?? `${parsed.name ?? parsed.email.split('@')[0]}'s workspace`
          const slug = await findAvailableSlug(tx, orgName)
          // The new user acts for themselves: the organization is theirs, they become its owner.
          const {org} = await deps.orgs.createOrg(issuance.actorOf(user, context), {name: orgName, slug}, tx, {personal: true})
          const opened = await issuance.openSession(tx, user, org.id, context)
          return {user, org, ...opened, issuedAt: issuance.issuedAtNow()}
        }),
      )
      const tokens = await issuance.issueTokenSet({id: sessionId, userId: user.id, orgId: org.id, role: OWNER_ROLE_KEY, issuedAt, emailVerified: false}, refreshToken)
      return {user, org, tokens}
    },

    /**
     * Checks email and password and opens a session. When the request names an organization
     * (body `org`, else X-Tenant-Slug / X-Tenant-ID, else its host), the tokens are bound to it
     * and carry the caller's role. Unknown email and wrong password fail alike and cost the
     * same (auth.invalid_credentials), whatever organization the request names. An organization
     * that does not exist, a deleted one and one the caller is not a member of are all
     * org.not_found, also when another source names one of the caller's; tenant.ambiguous only
     * when every source names one of the caller's and they differ. A password change or a
     * disable that commits after the password check refuses the login (auth.invalid_credentials,
     * user.disabled): the account is read again in the session's transaction. Raises user.disabled,
     * tenant.ambiguous, org.not_found.
     */
    async login(context: RequestContext, input: LoginInput, tenant: TenantHints = {}): Promise<TokenSet> {
      const parsed = validateInput(loginSchema, input)
      const user = await findUserByEmail(db, parsed.email)
      if (!user) {
        await deps.passwords.spendDummyVerification(parsed.password)
        throw invalidCredentials()
      }
      const verification = await deps.passwords.verifyPassword(user.password_hash, parsed.password)
      if (!verification.ok) throw invalidCredentials()
      if (user.disabled_at) throw new DomainError('user.disabled', 'This account is disabled')
      const verifiedHash = user.password_hash
      // The hashing parameters changed since this hash was made: upgrade it now we know the
      // password (hashed here, outside the transaction: argon2 must not hold the write lock).
      const rehashed = verification.needsRehash && verifiedHash ? await deps.passwords.hashPassword(parsed.password) : null
      // The organization is looked at only now, with the credentials checked: how a login with a
      // wrong password fails says nothing about the organizations it names.
      const {sessionId, refreshToken, binding, revokedSessions, issuedAt} = await inTransaction(db, async (tx) => {
        // The password was checked against a hash read before this transaction. Read the account
        // again under its row lock (first in the lock order: user, organization, membership): a
        // password change or a disable that committed since refuses the login, and one that
        // starts now waits for it and then ends the session it opens.
        await lockUser(tx, user.id)
        const current = await findUserById(tx, user.id)
        if (!current || current.password_hash !== verifiedHash) throw invalidCredentials()
        if (current.disabled_at) throw new DomainError('user.disabled', 'This account is disabled')
        // (A lockout, once there is one, is checked here too: one that committed since the
        // password check refuses the login.)
        if (rehashed && verifiedHash) await replacePasswordHash(tx, user.id, verifiedHash, rehashed)
        const binding = await resolveRequestedBinding(tx, user.id, {...tenant, bodyOrg: parsed.org}, deps.tenancy)
        const issuedAt = issuance.issuedAtNow()
        const opened = await issuance.openSession(tx, current, binding?.org.id ?? null, context)
        return {...opened, binding, issuedAt}
      })
      if (revokedSessions > 0) await deps.revocationSignal.notify() // the session limit revoked the oldest
      return issuance.issueTokenSet({id: sessionId, userId: user.id, orgId: binding?.org.id ?? null, role: binding?.role ?? null, issuedAt}, refreshToken)
    },
  }
}
