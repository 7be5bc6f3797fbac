import type {Kysely} from 'kysely'
import {requirePlatformActor} from '../../access/org-access.js'
import type {Actor} from '../../access/principal.js'
import type {AuditLog} from '../../audit/audit-log.js'
import type {Database, UserAccountRow} from '../../db/database.js'
import {lockUser} from '../../db/dialect-helpers.js'
import {inTransaction} from '../../db/transaction.js'
import {DomainError} from '../../errors/domain-error.js'
import type {MailOutbox} from '../../mail/mail-outbox.js'
import {hashIdentifier} from '../../security/attempt-log.js'
import {openSealedText, sealText} from '../../security/encryption.js'
import type {SecretKeySource} from '../../security/secret-key.js'
import type {PurgeHook} from '../../shared/purge-hooks.js'
import {nowIso, type ServiceDeps} from '../../shared/service-deps.js'
import {validateInput} from '../../shared/validate.js'
import {loginIdentifierHash, WRONG_GUESS, type AttemptReservation, type LoginGuard} from '../login-guard.js'
import type {PasswordConfirmation} from '../password-confirmation.js'
import type {SecondFactor} from '../second-factor.js'
import {findUserById, requireUser} from '../user-repo.js'
import {mfaChangedMail, type MfaChange} from './mfa-mail.js'
import {
  disableMfaSchema,
  enableMfaSchema,
  mfaTargetSchema,
  regenerateRecoveryCodesSchema,
  resetMfaSchema,
  type DisableMfaInput,
  type EnableMfaInput,
  type MfaTargetInput,
  type RegenerateRecoveryCodesInput,
  type ResetMfaInput,
} from './mfa-schemas.js'
import {consumeRecoveryCode, countUnusedRecoveryCodes, deleteRecoveryCodes, replaceRecoveryCodes} from './recovery-codes.js'
import {matchTotpCode, newTotpSecret, normalizeTotpCode, totpUri} from './totp.js'
import {claimTimeStep, confirmCredential, deleteTotpCredential, findTotpCredential, replacePendingCredential} from './totp-credential-repo.js'

// qrcode loads when a user enrols, not with every command.
let qrCode: Promise<typeof import('qrcode')> | undefined
function loadQrCode(): Promise<typeof import('qrcode')> {
  qrCode ??= import('qrcode').then((module) => module.default)
  return qrCode
}

export type MfaService = ReturnType<typeof createMfaService>

export interface MfaDeps extends ServiceDeps {
  audit: AuditLog
  /** The login's guard: every code checked here is reserved and settled through it, as at login. */
  guard: Pick<LoginGuard, 'guarded' | 'confirmSuccess'>
  /** The password a user types to turn 2FA on or off or to get new recovery codes. */
  passwordConfirmation: PasswordConfirmation
  secretKey: SecretKeySource
  mail: MailOutbox
  /** Links in mails start with it. */
  publicUrl: string
  /** The issuer authenticator apps show beside the account (totp_issuer). */
  totpIssuer: string
}

/** What setup hands the user once: the secret three ways (text, URI, QR code). */
export interface TotpSetup {
  secret: string
  otpauthUri: string
  qrSvg: string
  qrDataUrl: string
}

export interface MfaStatus {
  enabled: boolean
  /** A setup waits for its first code. */
  pending: boolean
  recoveryCodesRemaining: number
}

/** The context a TOTP secret is sealed under: a sealed secret copied to another user does not open. */
export const totpSecretContext = (userId: string) => `totp:${userId}`

/**
 * TOTP two-factor authentication (RFC 6238 through otplib): enrolment, recovery codes, disable
 * and an operator's reset; and the SecondFactor the login flow checks codes with. Secrets are
 * sealed with the deployment's secret key; recovery codes are stored hashed.
 */
export function createMfaService(deps: MfaDeps) {
  const {db, audit} = deps
  const openSecret = (userId: string, sealed: string) => openSealedText(deps.secretKey.get(), sealed, totpSecretContext(userId))

  /** The caller themselves, or (platform principals only) the user they name. */
  async function targetUserOf(tx: Kysely<Database>, actor: Actor, ref: string | undefined): Promise<UserAccountRow> {
    if (ref !== undefined) {
      await requirePlatformActor(tx, actor, "manage another user's two-factor authentication")
      return requireUser(tx, ref)
    }
    if (actor.principal.kind !== 'user') throw new DomainError('validation.failed', 'Name the user whose two-factor authentication to manage', {problems: [{field: 'user', message: 'is required'}]})
    const row = await findUserById(tx, actor.principal.userId)
    if (!row) throw new DomainError('user.not_found', 'No such user')
    if (row.disabled_at) throw new DomainError('user.disabled', 'This account is disabled')
    return row
  }

  /** Checks a code against a confirmed credential and consumes it (time step or recovery code). */
  async function verifyProof(tx: Kysely<Database>, userId: string, proof: {code?: string; recoveryCode?: string}): Promise<'totp' | 'recovery' | null> {
    const credential = await findTotpCredential(tx, userId)
    if (!credential?.confirmedAt) return null
    const now = deps.clock.now()
    if (proof.code !== undefined) {
      const step = await matchTotpCode(openSecret(userId, credential.secretSealed), proof.code, now, credential.lastUsedStep)
      if (step !== null && (await claimTimeStep(tx, userId, step, now.toISOString()))) return 'totp'
      // A recovery code typed where the code goes is still a recovery code.
      const looksLikeTotp = normalizeTotpCode(proof.code).length === 6
      if (proof.recoveryCode === undefined && !looksLikeTotp && (await consumeRecoveryCode(tx, deps.secretKey.get(), userId, proof.code, now.toISOString()))) return 'recovery'
    }
    if (proof.recoveryCode !== undefined && (await consumeRecoveryCode(tx, deps.secretKey.get(), userId, proof.recoveryCode, now.toISOString()))) return 'recovery'
    return null
  }

  /**
   * Checks a code through the login's guard (kind 'mfa': per user and IP, and toward the
   * account's lock, as at login): reserved before it is checked (429 auth.too_many_attempts
   * when locked or over the minute's budget); `step` returns WRONG_GUESS for a wrong code (the
   * failure is confirmed, `wrong()` raised) and settles a right one inside its transaction.
   */
  function checkCode<Result>(actor: Actor, user: UserAccountRow, step: (reservation: AttemptReservation) => Promise<Result | typeof WRONG_GUESS>, wrong: () => DomainError): Promise<Result> {
    const attempt = {step: 'mfa' as const, identifierHash: hashIdentifier(user.id), lockoutHash: loginIdentifierHash(user.email), user: {id: user.id, email: user.email}, origin: actor.origin}
    return deps.guard.guarded(attempt, step, wrong)
  }

  /**
   * A user acting for themselves confirms with their password (guarded like a login: a stolen
   * access token alone is not enough); a platform principal naming the user gives none.
   */
  async function confirmCaller(actor: Actor, ref: string | undefined, password: string | undefined): Promise<void> {
    if (ref !== undefined) return
    if (password === undefined) throw new DomainError('validation.failed', 'Confirm with your password', {problems: [{field: 'password', message: 'is required'}]})
    const caller = await targetUserOf(db, actor, undefined)
    await deps.passwordConfirmation.confirmPassword(caller, password, actor.origin)
  }

  async function recordChange(tx: Kysely<Database>, actor: Actor, user: UserAccountRow, change: MfaChange, metadata: Record<string, unknown> = {}): Promise<void> {
    const action = change === 'recovery_codes_regenerated' ? 'user.mfa_recovery_codes_regenerated' : (`user.mfa_${change}` as const)
    await audit.append(tx, actor, {action, target: {type: 'user', id: user.id}, metadata: {email: user.email, ...metadata}})
    await deps.mail.enqueue(tx, mfaChangedMail(user, change, deps.publicUrl))
  }

  const invalidCode = () => new DomainError('auth.invalid_mfa_code', 'The code is wrong, expired or already used')
  const invalidCredentials = () => new DomainError('auth.invalid_credentials', 'Invalid email or password')

  const secondFactor: SecondFactor = {
    async isEnabled(database, userId) {
      const credential = await findTotpCredential(database, userId)
      return Boolean(credential?.confirmedAt)
    },
    verify: verifyProof,
    countUnusedRecoveryCodes,
  }

  return {
    ...secondFactor,

    /** Whether the user has 2FA on, a setup pending, and how many recovery codes are unused. */
    async statusOf(database: Kysely<Database>, userId: string): Promise<MfaStatus> {
      const credential = await findTotpCredential(database, userId)
      return {enabled: Boolean(credential?.confirmedAt), pending: Boolean(credential && !credential.confirmedAt), recoveryCodesRemaining: credential?.confirmedAt ? await countUnusedRecoveryCodes(database, userId) : 0}
    },

    /**
     * Starts enrolment: a fresh secret, stored sealed and unconfirmed (replacing an earlier
     * unconfirmed one), shown once as text, otpauth:// URI and QR code. 2FA is not on until
     * `enable` confirms a code. Raises mfa.already_enabled, platform.required, user.not_found,
     * user.disabled.
     */
    async setup(actor: Actor, input: MfaTargetInput = {}): Promise<TotpSetup> {
      const {user: ref} = validateInput(mfaTargetSchema, input)
      const secret = await newTotpSecret()
      const user = await inTransaction(db, async (tx) => {
        const user = await targetUserOf(tx, actor, ref)
        await lockUser(tx, user.id)
        if ((await findTotpCredential(tx, user.id))?.confirmedAt) throw new DomainError('mfa.already_enabled', 'Two-factor authentication is already on; disable it first')
        await replacePendingCredential(tx, user.id, sealText(deps.secretKey.get(), secret, totpSecretContext(user.id)), nowIso(deps))
        return user
      })
      const otpauthUri = await totpUri({issuer: deps.totpIssuer, account: user.email, secret})
      const [qrSvg, qrDataUrl] = await Promise.all([(await loadQrCode()).toString(otpauthUri, {type: 'svg', errorCorrectionLevel: 'M'}), (await loadQrCode()).toDataURL(otpauthUri, {errorCorrectionLevel: 'M'})])
      return {secret, otpauthUri, qrSvg, qrDataUrl}
    },

    /**
     * Confirms a pending setup with a current code (±1 step) and turns 2FA on; returns 10 fresh
     * recovery codes, shown only now. Audited (user.mfa_enabled) and mailed. A user acting for
     * themselves confirms with their password first (a wrong one: auth.invalid_credentials,
     * guarded like a login). Wrong codes are checked through the login's guard (minute's budget
     * per user and IP, and the account's lock). Raises validation.failed,
     * auth.invalid_credentials, auth.invalid_mfa_code, auth.too_many_attempts,
     * mfa.setup_required, mfa.already_enabled, platform.required, user.not_found.
     */
    async enable(actor: Actor, input: EnableMfaInput): Promise<{recoveryCodes: string[]}> {
      const parsed = validateInput(enableMfaSchema, input)
      await confirmCaller(actor, parsed.user, parsed.password)
      const target = await targetUserOf(db, actor, parsed.user)
      return checkCode(
        actor,
        target,
        (reservation) =>
          inTransaction(db, async (tx) => {
            const user = await targetUserOf(tx, actor, parsed.user)
            await lockUser(tx, user.id)
            const credential = await findTotpCredential(tx, user.id)
            if (credential?.confirmedAt) throw new DomainError('mfa.already_enabled', 'Two-factor authentication is already on')
            if (!credential) throw new DomainError('mfa.setup_required', 'Start with setup: there is no secret waiting for its first code')
            const step = await matchTotpCode(openSecret(user.id, credential.secretSealed), parsed.code, deps.clock.now(), null)
            if (step === null) return WRONG_GUESS
            if (!(await confirmCredential(tx, user.id, step, nowIso(deps)))) throw new DomainError('mfa.setup_required', 'The setup was replaced; start again')
            await deps.guard.confirmSuccess(tx, reservation, {isLoginComplete: false})
            const recoveryCodes = await replaceRecoveryCodes(tx, deps, deps.secretKey.get(), user.id)
            await recordChange(tx, actor, user, 'enabled')
            return {recoveryCodes}
          }),
        invalidCode,
      )
    },

    /**
     * Replaces the recovery codes with 10 fresh ones (the old ones stop working); audited and
     * mailed. A user acting for themselves confirms with their password (guarded like a login).
     * Raises validation.failed, auth.invalid_credentials, auth.too_many_attempts,
     * mfa.not_enabled, platform.required, user.not_found.
     */
    async regenerateRecoveryCodes(actor: Actor, input: RegenerateRecoveryCodesInput = {}): Promise<{recoveryCodes: string[]}> {
      const {user: ref, password} = validateInput(regenerateRecoveryCodesSchema, input)
      if (!(await findTotpCredential(db, (await targetUserOf(db, actor, ref)).id))?.confirmedAt) throw new DomainError('mfa.not_enabled', 'Two-factor authentication is not on')
      await confirmCaller(actor, ref, password)
      return inTransaction(db, async (tx) => {
        const user = await targetUserOf(tx, actor, ref)
        await lockUser(tx, user.id)
        if (!(await findTotpCredential(tx, user.id))?.confirmedAt) throw new DomainError('mfa.not_enabled', 'Two-factor authentication is not on')
        const recoveryCodes = await replaceRecoveryCodes(tx, deps, deps.secretKey.get(), user.id)
        await recordChange(tx, actor, user, 'recovery_codes_regenerated')
        return {recoveryCodes}
      })
    },

    /**
     * Turns the caller's 2FA off: needs their password and a current code or an unused
     * recovery code, each checked through the login's guard (minute's budgets and the account's
     * lock). Either one wrong is the same answer, auth.invalid_credentials: a stolen access
     * token does not learn whether the password was right. Deletes the credential and the
     * recovery codes; audited (user.mfa_disabled) and mailed. Raises validation.failed,
     * auth.invalid_credentials, auth.too_many_attempts, mfa.not_enabled.
     */
    async disable(actor: Actor, input: DisableMfaInput): Promise<void> {
      const parsed = validateInput(disableMfaSchema, input)
      const caller = await targetUserOf(db, actor, undefined)
      if (!(await findTotpCredential(db, caller.id))?.confirmedAt) throw new DomainError('mfa.not_enabled', 'Two-factor authentication is not on')
      await deps.passwordConfirmation.confirmPassword(caller, parsed.password, actor.origin)
      await checkCode(
        actor,
        caller,
        (reservation) =>
          inTransaction(db, async (tx) => {
            await lockUser(tx, caller.id)
            const user = await targetUserOf(tx, actor, undefined)
            // The password was confirmed against the hash read before: one changed since does not count.
            if (user.password_hash !== caller.password_hash) throw invalidCredentials()
            if (!(await findTotpCredential(tx, user.id))?.confirmedAt) throw new DomainError('mfa.not_enabled', 'Two-factor authentication is not on')
            const proof = await verifyProof(tx, user.id, {code: parsed.code, recoveryCode: parsed.recoveryCode})
            if (proof === null) return WRONG_GUESS
            await deps.guard.confirmSuccess(tx, reservation, {isLoginComplete: false})
            await deleteRecoveryCodes(tx, user.id)
            await deleteTotpCredential(tx, user.id)
            await recordChange(tx, actor, user, 'disabled', {proof})
            return proof
          }),
        invalidCredentials,
      )
    },

    /**
     * For a lost device: deletes the user's credential (confirmed or pending) and recovery
     * codes, so they log in with the password alone (and may enrol again). Platform principals
     * only; audited (user.mfa_reset) and mailed. Raises mfa.not_enabled, platform.required,
     * user.not_found.
     */
    async resetForUser(actor: Actor, input: ResetMfaInput): Promise<{user: {id: string; email: string}}> {
      const {user: ref} = validateInput(resetMfaSchema, input)
      return inTransaction(db, async (tx) => {
        await requirePlatformActor(tx, actor, "reset a user's two-factor authentication")
        const user = await requireUser(tx, ref, {allowDisabled: true})
        await lockUser(tx, user.id)
        const credential = await findTotpCredential(tx, user.id)
        if (!credential) throw new DomainError('mfa.not_enabled', `User ${user.email} has no two-factor authentication`)
        const recoveryCodes = await deleteRecoveryCodes(tx, user.id)
        await deleteTotpCredential(tx, user.id)
        await recordChange(tx, actor, user, 'reset', {was_enabled: Boolean(credential.confirmedAt), recovery_codes_deleted: recoveryCodes})
        return {user: {id: user.id, email: user.email}}
      })
    },

    /** A deleted user's TOTP credential and recovery codes. */
    purgeHook: {
      name: 'mfa',
      purgeUser: async (tx, userId) => (await deleteRecoveryCodes(tx, userId)) + (await deleteTotpCredential(tx, userId)),
    } satisfies PurgeHook,
  }
}
