import {z} from 'zod'
import type {Core} from '../../src/core.js'
import {changeEmailSchema} from '../../src/identity/email-change.js'
import {verifyEmailSchema} from '../../src/identity/email-verification-service.js'
import {forgotPasswordSchema, resetPasswordSchema} from '../../src/identity/password-reset-service.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {userResponse} from './response-schemas.js'

/** The one answer of a reset request, whether or not the address has an account. */
export const PASSWORD_FORGOT_ANSWER = {message: 'If an account uses this address, a link to reset its password is on its way.'} as const

const LINK_TOKEN_ERRORS =
  'A wrong, expired or used token is 422 auth.invalid_link_token (one answer for all); more than failed_attempts_per_minute of those from one IP within a minute are 429 auth.too_many_attempts with Retry-After.'

/** Email verification, password reset by mailed link, and email changes: thin wrappers over core.account. */
export function accountRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/auth/verify-email',
      summary: 'Verify an email address with the token of a mailed link',
      description: `The token comes from the link mailed at registration, after an email change or on request (\`${core.publicUrl}/verify-email?token=…\`); it works once, within email_verification_ttl_seconds, and only while the account still has the address it was sent to. ${LINK_TOKEN_ERRORS}`,
      tags: ['account'],
      body: verifyEmailSchema,
      responses: {200: {description: 'The address is verified', schema: z.object({email: z.string(), email_verified: z.literal(true)})}},
      async handle({body, client}) {
        const {email} = await core.account.verifyEmail(client, body)
        return {body: {email, emailVerified: true as const}}
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/verify-email/resend',
      summary: 'Mail the caller a new verification link',
      description:
        'Earlier links stop working. At most one a minute and five an hour per user (429 auth.too_many_attempts with Retry-After beyond); an address already verified is 409 email.already_verified.',
      tags: ['account'],
      auth: 'access_token',
      responses: {202: {description: 'The mail is queued', schema: z.object({email: z.string().describe('Where the link was sent')})}},
      async handle({caller, client}) {
        return {status: 202, body: await core.account.resendVerification(caller, client)}
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/password/forgot',
      summary: 'Ask for a password reset link by mail',
      description:
        'Always 202 with the same body, whether or not an account uses the address (only a malformed address is 422). For an active account a link is mailed (valid password_reset_ttl_seconds, once; earlier links stop working). At most 3 mails per account and 20 per client IP within an hour: beyond, the same answer and no mail.',
      tags: ['account'],
      body: forgotPasswordSchema,
      responses: {202: {description: 'Accepted (says nothing about whether the account exists)', schema: z.object({message: z.string()})}},
      async handle({body, client}) {
        await core.account.requestPasswordReset(client, body)
        return {status: 202, body: PASSWORD_FORGOT_ANSWER}
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/password/reset',
      summary: 'Set a new password with the token of a reset link; every session ends',
      description: `The new password follows the password policy (422 password.too_weak, and the link stays usable). On success the link is used up, every session of the account ends and every access token issued before is refused; log in again with the new password. ${LINK_TOKEN_ERRORS}`,
      tags: ['account'],
      body: resetPasswordSchema,
      responses: {204: {description: 'The password is changed'}},
      async handle({body, client}) {
        await core.account.resetPassword(client, body)
        return {status: 204}
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/email',
      summary: "Change the caller's email address (confirmed with the password)",
      description:
        'The new address is unverified (email_verified false) until the link mailed to it is followed; the old address gets a notice. Earlier verification and reset links stop working. A wrong password is 401 auth.invalid_credentials; an address another account uses is 409 user.email_taken.',
      tags: ['account'],
      auth: 'access_token',
      body: changeEmailSchema,
      responses: {200: {description: 'The user with the new address', schema: z.object({user: userResponse})}},
      async handle({body, caller, client}) {
        return {body: {user: await core.account.changeOwnEmail(caller, client, body)}}
      },
    }),
  ]
}
