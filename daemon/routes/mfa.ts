import {z} from 'zod'
import {userActor} from '../../src/access/principal.js'
import type {Core} from '../../src/core.js'
import {disableMfaSchema, enableMfaBodySchema, regenerateRecoveryCodesBodySchema} from '../../src/identity/mfa/mfa-schemas.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {NO_STORE_HEADERS} from './auth.js'

const recoveryCodesResponse = z.object({recovery_codes: z.array(z.string()).describe('Ten single-use recovery codes, shown only now')})
const CODE_FAILURES =
  'The password is guarded like a login (failed_attempts_per_minute per account and IP, and the lock); wrong codes count toward failed_attempts_per_minute per user and IP and toward the lock: beyond, 429 auth.too_many_attempts with Retry-After.'

/** TOTP two-factor authentication of the caller: thin wrappers over core.mfa. */
export function mfaRoutes({core}: {core: Core}): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/auth/2fa',
      summary: "Whether the caller's 2FA is on, and how many recovery codes are left",
      tags: ['2fa'],
      auth: 'access_token',
      responses: {200: {description: 'The 2FA status', schema: z.object({enabled: z.boolean(), pending: z.boolean(), recovery_codes_remaining: z.number().int()})}},
      handle: async ({caller}) => ({body: await core.mfa.statusOf(core.database.db, caller.userId)}),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/2fa/setup',
      summary: 'Start enrolment: a new TOTP secret, its otpauth:// URI and a QR code',
      description:
        'Nothing is on until POST /v1/auth/2fa/enable confirms a code; setting up again before that replaces the secret. Refused with 409 mfa.already_enabled while 2FA is on.',
      tags: ['2fa'],
      auth: 'access_token',
      responses: {
        200: {
          description: 'The secret (base32), the otpauth:// URI (issuer: totp_issuer, account: the email) and the QR code as SVG and as a PNG data URL',
          schema: z.object({secret: z.string(), otpauth_uri: z.string(), qr_svg: z.string(), qr_data_url: z.string()}),
        },
      },
      handle: async ({caller, client}) => ({body: await core.mfa.setup(userActor(caller, client)), headers: NO_STORE_HEADERS}),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/2fa/enable',
      summary: 'Confirm the setup with your password and a current code: 2FA is on; returns 10 recovery codes',
      description: `A code of the current 30-second step or the one before or after, and the caller's password (an access token alone cannot enrol an authenticator). A wrong password: 401 auth.invalid_credentials; without a setup: 409 mfa.setup_required; a wrong code: 401 auth.invalid_mfa_code. ${CODE_FAILURES}`,
      tags: ['2fa'],
      auth: 'access_token',
      body: enableMfaBodySchema,
      responses: {200: {description: 'The recovery codes', schema: recoveryCodesResponse}},
      handle: async ({body, caller, client}) => ({body: await core.mfa.enable(userActor(caller, client), body), headers: NO_STORE_HEADERS}),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/2fa/recovery-codes',
      summary: 'Replace the recovery codes with 10 new ones (the old ones stop working), confirmed with your password',
      description: `An access token alone cannot take the recovery codes: a wrong password is 401 auth.invalid_credentials. 409 mfa.not_enabled when 2FA is off. ${CODE_FAILURES}`,
      tags: ['2fa'],
      auth: 'access_token',
      body: regenerateRecoveryCodesBodySchema,
      responses: {200: {description: 'The new recovery codes', schema: recoveryCodesResponse}},
      handle: async ({body, caller, client}) => ({body: await core.mfa.regenerateRecoveryCodes(userActor(caller, client), body), headers: NO_STORE_HEADERS}),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/2fa/disable',
      summary: 'Turn 2FA off, with the password and a current code or a recovery code',
      description: `\`code\` takes a 6-digit code or a recovery code; \`recovery_code\` a recovery code. A wrong password and a wrong code get the same answer, 401 auth.invalid_credentials (so it tells nothing about the password). ${CODE_FAILURES}`,
      tags: ['2fa'],
      auth: 'access_token',
      body: disableMfaSchema,
      responses: {204: {description: '2FA is off; the recovery codes are deleted'}},
      async handle({body, caller, client}) {
        await core.mfa.disable(userActor(caller, client), body)
        return {status: 204}
      },
    }),
  ]
}
