import {z} from 'zod'
import {CONTROL_CHARACTERS_MESSAGE, hasNoControlCharacters} from '../shared/display-text.js'
import {checkPasswordStrength} from '../security/password-policy.js'

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({message: 'must be a valid email address'}).max(254, 'must be at most 254 characters'))

export const userNameSchema = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').refine(hasNoControlCharacters, CONTROL_CHARACTERS_MESSAGE)

// The policy (length in code points after NFKC) lives in one place; the schema only applies it.
export const passwordSchema = z.string().superRefine((password, context) => {
  const problem = checkPasswordStrength(password)
  if (problem) context.addIssue({code: 'custom', message: problem})
})

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
