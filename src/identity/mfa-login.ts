import type {Kysely} from 'kysely'
import {z} from 'zod'
import type {Database, UserAccountRow} from '../db/database.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {hashIdentifier} from '../security/attempt-log.js'
import {nowIso} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import type {LoginCompletion, LoginCompletionDeps} from './login-completion.js'
import {WRONG_GUESS, type LoginAttempt} from './login-guard.js'
import {findPendingMfaLogin, passwordDigestOf, useMfaLoginToken} from './mfa-login-token.js'
import {recoveryCodeUsedMail} from './mfa/mfa-mail.js'
import {requireMemberBindingByRef} from './org-binding.js'
import type {RequestContext, TokenSet} from './session-issuance.js'
import {findUserById} from './user-repo.js'

const codeSchema = z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters')

/** POST /v1/auth/login/2fa: the mfa_token of the password step and a TOTP code or a recovery code. */
export const mfaLoginSchema = z
  .object({
    mfaToken: z.string().min(1, 'must not be empty').max(512).describe('The mfa_token the password step answered'),
    code: codeSchema.optional().describe('A current 6-digit code of the authenticator app'),
    recoveryCode: codeSchema.optional().describe('One of the recovery codes (instead of code); each works once'),
  })
  .refine((input) => (input.code === undefined) !== (input.recoveryCode === undefined), {message: 'give either code or recovery_code'})
export type MfaLoginInput = z.input<typeof mfaLoginSchema>

export const invalidMfaToken = () => new DomainError('auth.invalid_mfa_token', 'The mfa_token is invalid, used or expired; log in again')
const invalidMfaCode = () => new DomainError('auth.invalid_mfa_code', 'The code is wrong, expired or already used')

export type MfaLoginService = ReturnType<typeof createMfaLoginService>

/**
 * A login with a recovery code (inside its transaction): audited user.mfa_recovery_code_used
 * with the codes left, and the user mailed — a code used by someone else does not go unseen.
 */
async function reportRecoveryCodeUse(tx: Kysely<Database>, deps: LoginCompletionDeps, user: UserAccountRow, origin: RequestContext): Promise<void> {
  const remaining = await deps.login.secondFactor.countUnusedRecoveryCodes(tx, user.id)
  await deps.audit.append(tx, deps.issuance.actorOf(user, origin), {
    action: 'user.mfa_recovery_code_used',
    target: {type: 'user', id: user.id},
    metadata: {email: user.email, recovery_codes_remaining: remaining},
  })
  await deps.login.mail.enqueue(tx, recoveryCodeUsedMail(user, remaining, deps.login.publicUrl))
}

/** The second step of a 2FA login: the code after the password. */
export function createMfaLoginService(deps: LoginCompletionDeps & {completion: LoginCompletion}) {
  const {db, completion, login} = deps

  return {
    /**
     * Checks the second factor of a login whose password step answered `mfa_required` and opens
     * its session as a password login does (bound to the organization that step resolved). A
     * wrong, replayed or used code is auth.invalid_mfa_code, recorded and counted toward the
     * lock; the mfa_token stays usable for retries until it expires, the minute's budget of
     * failed codes (per user and IP) is spent (429 auth.too_many_attempts) or the account is
     * locked. A right code uses the token up. An unknown, used or expired token, or one whose
     * password changed since, is auth.invalid_mfa_token. Raises validation.failed,
     * auth.invalid_mfa_token, auth.invalid_mfa_code, auth.too_many_attempts, user.disabled,
     * auth.email_not_verified, org.not_found (no longer a member).
     */
    async loginWithSecondFactor(context: RequestContext, input: MfaLoginInput): Promise<TokenSet> {
      const parsed = validateInput(mfaLoginSchema, input)
      const pending = await findPendingMfaLogin(db, parsed.mfaToken, nowIso(deps))
      const user = pending ? await findUserById(db, pending.userId) : null
      if (!pending || !user) throw invalidMfaToken()
      const attempt: LoginAttempt = {step: 'mfa', identifierHash: hashIdentifier(user.id), lockoutHash: pending.lockoutHash, user, origin: context}
      const opened = await login.guard.guarded(
        attempt,
        (reservation) =>
          inTransaction(db, async (tx) => {
            const current = await completion.recheckAccount(tx, {
              userId: user.id,
              lockoutHash: pending.lockoutHash,
              isPasswordUnchanged: (passwordHash) => passwordDigestOf(passwordHash) === pending.passwordDigest,
              passwordChanged: invalidMfaToken,
            })
            // Read again under the user's row lock: of two requests with one token, one uses it.
            const stillPending = await findPendingMfaLogin(tx, parsed.mfaToken, nowIso(deps))
            if (!stillPending) throw invalidMfaToken()
            const proof = await login.secondFactor.verify(tx, user.id, {code: parsed.code, recoveryCode: parsed.recoveryCode})
            // Nothing was written for a wrong code: this transaction commits nothing, the guard confirms the failure.
            if (!proof) return WRONG_GUESS
            if (!(await useMfaLoginToken(tx, pending.id, nowIso(deps)))) throw invalidMfaToken()
            const binding = pending.orgId ? await requireMemberBindingByRef(tx, user.id, pending.orgId) : null
            if (proof === 'recovery') await reportRecoveryCodeUse(tx, deps, current, context)
            return completion.openLoginSession(tx, current, binding, reservation)
          }),
        invalidMfaCode,
      )
      return completion.issueLoginTokens(opened)
    },
  }
}
