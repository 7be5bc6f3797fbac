import {userActor} from '../access/principal.js'
import {OWNER_ROLE_KEY} from '../access/role-repo.js'
import {inTransaction} from '../db/transaction.js'
import {assertNewPassword} from '../security/password-policy.js'
import {nowIso} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {findAvailableSlug} from '../tenancy/available-slug.js'
import type {Organization} from '../tenancy/org-repo.js'
import type {OrgService} from '../tenancy/org-service.js'
import type {TenantRequest, TenantResolutionOptions} from '../tenancy/tenant-resolution.js'
import {registerSchema, type RegisterInput} from './auth-schemas.js'
import {recognizeDevice} from './device-recognition.js'
import type {EmailVerificationService} from './email-verification-service.js'
import type {LoginDeps} from './login-completion.js'
import {assertSelfRegistrationAllowed, type RegistrationPolicy} from './registration-policy.js'
import type {RequestContext, SessionDeps, SessionIssuance, TokenSet} from './session-issuance.js'
import {insertNewUser, withUniqueEmail} from './user-creation.js'
import type {User} from './user-repo.js'
import {createUserSchema} from './user-schemas.js'

/** Where a login or switch-org may also find its organization besides the body: headers and host. */
export type TenantHints = Omit<TenantRequest, 'bodyOrg'>

export type AuthenticationService = ReturnType<typeof createAuthenticationService>

/**
 * What registration answers: the account, its organization and tokens; or, with
 * require_verified_email, no tokens until the address is verified (the user logs in then).
 */
export type Registration =
  | {user: User; org: Organization; tokens: TokenSet; emailVerificationRequired: false}
  | {user: User; org: Organization; tokens: null; emailVerificationRequired: true}

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
  /**
   * The outbox and public_url the device recognition mails with (as logins do); whether an
   * unverified address may log in (require_verified_email: then registration opens no session).
   */
  login: Pick<LoginDeps, 'mail' | 'publicUrl' | 'requireVerifiedEmail'>
}

/** Registration: an account and its first session (logins begin in password-login.ts). */
export function createAuthenticationService(deps: AuthenticationDeps) {
  const {db, issuance} = deps

  return {
    /**
     * Creates a user with a password and a personal organization they own, mails them a link
     * to verify their address, records the device as their first known one (silently), and
     * logs them in, in one transaction. Anyone may register (no
     * principal is needed) while the setting `registration` is open; invite_only and closed
     * refuse with registration.closed. The password must pass the policy for new passwords.
     * With require_verified_email, the account and its organization are created and the link
     * mailed, but no session is opened (emailVerificationRequired, tokens null): the user logs in
     * once the address is verified.
     * Raises registration.closed, validation.failed, password.too_weak, user.email_taken.
     */
    async register(context: RequestContext, input: RegisterInput): Promise<Registration> {
      assertSelfRegistrationAllowed(deps.registration)
      const parsed = validateInput(registerSchema, input)
      const newUser = validateInput(createUserSchema, {email: parsed.email, name: parsed.name})
      assertNewPassword(parsed.password, {email: parsed.email})
      // Hashed before the transaction: argon2 is slow on purpose and must not hold the write lock.
      const passwordHash = await deps.passwords.hashPassword(parsed.password)
      const {user, org, opened, issuedAt} = await withUniqueEmail(parsed.email, () =>
        inTransaction(db, async (tx) => {
          const registrant = userActor({userId: '', sessionId: '', orgId: null, email: parsed.email}, context)
          const {user} = await insertNewUser(tx, deps, registrant, newUser, passwordHash)
          await deps.emailVerification.sendVerification(tx, user)
          const orgName = parsed.orgName ?? `${parsed.name ?? parsed.email.split('@')[0]}'s workspace`
          const slug = await findAvailableSlug(tx, orgName)
          // The new user acts for themselves: the organization is theirs, they become its owner.
          const {org} = await deps.orgs.createOrg(issuance.actorOf(user, context), {name: orgName, slug}, tx, {personal: true})
          // The registration's device is the account's first known one (stored silently): a
          // later login from another device or network is reported as new (security.new_device).
          await recognizeDevice(tx, {audit: deps.audit, mail: deps.login.mail, publicUrl: deps.login.publicUrl}, {user, actor: issuance.actorOf(user, context), origin: context, now: nowIso(deps)})
          // require_verified_email: no session before the address is verified (a login would be refused).
          const opened = deps.login.requireVerifiedEmail ? null : await issuance.openSession(tx, user, org.id, context)
          return {user, org, opened, issuedAt: issuance.issuedAtNow()}
        }),
      )
      if (!opened) return {user, org, tokens: null, emailVerificationRequired: true}
      const tokens = await issuance.issueTokenSet({id: opened.sessionId, userId: user.id, orgId: org.id, role: OWNER_ROLE_KEY, issuedAt, emailVerified: false}, opened.refreshToken)
      return {user, org, tokens, emailVerificationRequired: false}
    },
  }
}
