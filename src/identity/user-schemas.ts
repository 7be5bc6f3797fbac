import {z} from 'zod'
import {CONTROL_CHARACTERS_MESSAGE, hasNoControlCharacters} from '../shared/display-text.js'
import {PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH} from '../security/password-policy.js'

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({message: 'must be a valid email address'}).max(254, 'must be at most 254 characters'))

export const userNameSchema = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').refine(hasNoControlCharacters, CONTROL_CHARACTERS_MESSAGE)

// A new password. The policy (length in code points after NFKC, not the email, not a common
// password) lives in one place, src/security/password-policy.ts: services apply it with
// assertNewPassword, which knows the account's email and answers password.too_weak.
export const passwordSchema = z
  .string()
  .describe(`A new password: ${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters (Unicode code points after NFKC), not the account's email, not a common or breached password (password.too_weak otherwise)`)

export const createUserSchema = z.object({
  email: emailSchema,
  name: userNameSchema.optional(),
  password: passwordSchema.optional(),
  isPlatformAdmin: z.boolean().default(false),
  ifNotExists: z.boolean().default(false),
})
export type CreateUserInput = z.input<typeof createUserSchema>

/** A user named by id or email. */
export const userRefValueSchema = z.string().trim().min(1, 'must not be empty').max(254, 'must be at most 254 characters')
export const userRefSchema = z.object({user: userRefValueSchema})
export type UserRefInput = z.input<typeof userRefSchema>

export const updateUserSchema = z
  .object({user: userRefValueSchema, name: userNameSchema.optional(), email: emailSchema.optional()})
  .refine((input) => input.name !== undefined || input.email !== undefined, {message: 'give at least one of name, email'})
export type UpdateUserInput = z.input<typeof updateUserSchema>
