import type {Kysely} from 'kysely'
import type {Database, UserAccountRow} from '../db/database.js'
import {lockUser} from '../db/dialect-helpers.js'
import {DomainError} from '../errors/domain-error.js'
import type {MailOutbox} from '../mail/mail-outbox.js'
import {nowIso} from '../shared/service-deps.js'
import {recognizeDevice} from './device-recognition.js'
import type {AttemptReservation, LoginGuard} from './login-guard.js'
import type {OrgBinding} from './org-binding.js'
import type {SecondFactor} from './second-factor.js'
import type {SessionDeps, SessionIssuance, TokenSet} from './session-issuance.js'
import {findUserById} from './user-repo.js'

/** What logins need beyond sessions: the guard, the second factor, mail, and the login policy. */
export interface LoginDeps {
  guard: LoginGuard
  secondFactor: SecondFactor
  mail: MailOutbox
  /** Links in mails start with it (the new-device mail's). */
  publicUrl: string
  /** Refuse a correct password while the email is not verified (auth.email_not_verified). */
  requireVerifiedEmail: boolean
  mfaTokenTtlSeconds: number
}

export interface LoginCompletionDeps extends SessionDeps {
  issuance: SessionIssuance
  login: LoginDeps
}

/** A session opened by a login, in its transaction; its tokens are signed after the commit. */
export interface OpenedLogin {
  userId: string
  sessionId: string
  refreshToken: string
  revokedSessions: number
  binding: OrgBinding | null
  issuedAt: Date
}

export const invalidCredentials = () => new DomainError('auth.invalid_credentials', 'Invalid email or password')
export const accountDisabled = () => new DomainError('user.disabled', 'This account is disabled')
export const mfaEnrollmentRequired = () =>
  new DomainError('auth.mfa_enrollment_required', 'This organization requires two-factor authentication: turn it on for your account first')

/** Whether the organization requires 2FA of its members (organization.require_2fa). */
export async function orgRequiresSecondFactor(tx: Kysely<Database>, orgId: string): Promise<boolean> {
  const row = await tx.selectFrom('organization').select('require_2fa').where('id', '=', orgId).executeTakeFirst()
  return Boolean(row && Number(row.require_2fa) === 1)
}

/**
 * Raises auth.mfa_enrollment_required when the organization a login or switch-org binds to
 * requires 2FA and the user has not turned it on.
 */
export async function assertSecondFactorPolicy(tx: Kysely<Database>, secondFactor: SecondFactor, binding: OrgBinding | null, userId: string): Promise<void> {
  if (binding && (await orgRequiresSecondFactor(tx, binding.org.id)) && !(await secondFactor.isEnabled(tx, userId))) throw mfaEnrollmentRequired()
}

export type LoginCompletion = ReturnType<typeof createLoginCompletion>

/**
 * The end of every login, with a password alone or with a second factor after it: the account
 * read again under its row lock, and the session opened in that transaction. One path, so both
 * steps refuse and record alike.
 */
export function createLoginCompletion(deps: LoginCompletionDeps) {
  const {issuance, login} = deps

  return {
    /**
     * Locks the user's row (first in the lock order: user, organization, membership) and reads
     * the account again: the password checked before the transaction was against a hash read
     * then. A password change (`passwordChanged`), a disable (user.disabled) or a lockout that
     * committed since refuses the login (the lock answered like a wrong guess by
     * LoginGuard.guarded, never a late 429), and one that starts now waits and then ends the
     * session this opens. With require_verified_email, an unverified address is
     * auth.email_not_verified.
     */
    async recheckAccount(
      tx: Kysely<Database>,
      input: {userId: string; lockoutHash: string; isPasswordUnchanged: (passwordHash: string | null) => boolean; passwordChanged: () => DomainError},
    ): Promise<UserAccountRow> {
      await lockUser(tx, input.userId)
      const current = await findUserById(tx, input.userId)
      if (!current || !input.isPasswordUnchanged(current.password_hash)) throw input.passwordChanged()
      if (current.disabled_at) throw accountDisabled()
      await login.guard.assertNotLockedMeanwhile(tx, input.lockoutHash)
      if (login.requireVerifiedEmail && !current.email_verified_at) throw new DomainError('auth.email_not_verified', 'Verify your email address before logging in')
      return current
    },

    /**
     * Opens the session of a login that passed every step, inside `tx` after recheckAccount:
     * the device is recognized (a new one audited and mailed), the attempt recorded as a
     * success (the failure count starts again), the session opened and audited.
     */
    async openLoginSession(tx: Kysely<Database>, user: UserAccountRow, binding: OrgBinding | null, reservation: AttemptReservation): Promise<OpenedLogin> {
      const {attempt} = reservation
      const actor = issuance.actorOf(user, attempt.origin)
      await recognizeDevice(tx, {audit: deps.audit, mail: login.mail, publicUrl: login.publicUrl}, {user, actor, origin: attempt.origin, now: nowIso(deps)})
      await login.guard.confirmSuccess(tx, reservation, {isLoginComplete: true})
      const issuedAt = issuance.issuedAtNow()
      const opened = await issuance.openSession(tx, user, binding?.org.id ?? null, attempt.origin)
      return {...opened, userId: user.id, binding, issuedAt}
    },

    /** After the commit: tells this process about sessions the limit revoked, signs the tokens. */
    async issueLoginTokens(opened: OpenedLogin): Promise<TokenSet> {
      if (opened.revokedSessions > 0) await deps.revocationSignal.notify()
      return issuance.issueTokenSet({id: opened.sessionId, userId: opened.userId, orgId: opened.binding?.org.id ?? null, role: opened.binding?.role ?? null, issuedAt: opened.issuedAt}, opened.refreshToken)
    },
  }
}
