import {z} from 'zod'
import {userRefValueSchema} from '../user-schemas.js'

/** A TOTP code or a recovery code as typed: short text, normalized by the checks. */
const codeSchema = z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters')

/**
 * Whose 2FA: absent for the caller themselves (a user with a token); a user id or email for a
 * platform principal (operator at the CLI, platform key or platform admin).
 */
const targetSchema = {user: userRefValueSchema.optional()}

export const mfaTargetSchema = z.object(targetSchema)
export type MfaTargetInput = z.input<typeof mfaTargetSchema>

const passwordSchema = z.string().min(1, 'must not be empty').max(4096, 'must be at most 4096 characters')

/**
 * The caller's password, required when a user acts for themselves (a stolen access token alone
 * must not enrol another authenticator or take the recovery codes); an operator naming a user
 * gives none.
 */
const confirmationSchema = {password: passwordSchema.optional().describe('Your password (required when acting for yourself)')}

/** POST /v1/auth/2fa/enable: the first code the authenticator app shows, and the password. */
export const enableMfaSchema = z.object({...targetSchema, ...confirmationSchema, code: codeSchema.describe('A current 6-digit code of the authenticator app')})
export type EnableMfaInput = z.input<typeof enableMfaSchema>

/** POST /v1/auth/2fa/recovery-codes: the password. */
export const regenerateRecoveryCodesSchema = z.object({...targetSchema, ...confirmationSchema})
export type RegenerateRecoveryCodesInput = z.input<typeof regenerateRecoveryCodesSchema>

/** POST /v1/auth/2fa/disable: the password and a second factor (a TOTP code or a recovery code). */
export const disableMfaSchema = z
  .object({
    password: passwordSchema,
    code: codeSchema.optional().describe('A current 6-digit code, or a recovery code'),
    recoveryCode: codeSchema.optional().describe('A recovery code (instead of code)'),
  })
  .refine((input) => input.code !== undefined || input.recoveryCode !== undefined, {message: 'give code or recovery_code'})
export type DisableMfaInput = z.input<typeof disableMfaSchema>

/** `user 2fa reset`: whose credential goes (platform principals only). */
export const resetMfaSchema = z.object({user: userRefValueSchema})
export type ResetMfaInput = z.input<typeof resetMfaSchema>

/** The bodies of the HTTP routes, where the caller always acts for themselves. */
export const enableMfaBodySchema = enableMfaSchema.omit({user: true}).extend({password: passwordSchema.describe('Your password')})
export const regenerateRecoveryCodesBodySchema = z.object({password: passwordSchema.describe('Your password')})
