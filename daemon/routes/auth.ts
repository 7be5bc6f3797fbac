import {z} from 'zod'
import {userActor} from '../../src/access/principal.js'
import {isDomainError} from '../../src/errors/domain-error.js'
import type {Core} from '../../src/core.js'
import {changePasswordSchema, loginSchema, refreshSchema, registerSchema, switchOrgSchema} from '../../src/identity/auth-schemas.js'
import {mfaLoginSchema} from '../../src/identity/mfa-login.js'
import type {Metrics, LoginOutcome} from '../metrics.js'
import {defineRoute, type AnyRoute} from '../openapi/route.js'
import {tenantHintsOf} from '../tenant-hints.js'
import {accessTokenResponse, meResponse, orgResponse, sessionResponse, tokenFields, tokenResponse, userResponse} from './response-schemas.js'

const TENANT_CONTEXT =
  'The organization is named by the body’s `org` (slug or id), else the `X-Tenant-Slug` or `X-Tenant-ID` header, else the host (a subdomain of the configured base_domain, or an organization’s custom domain). Sources that name different organizations: 422 tenant.ambiguous. An organization that does not exist and one the caller is not a member of are the same 404 org.not_found.'

const LOGIN_DEFENCE =
  'Failed logins are counted per account and IP: beyond failed_attempts_per_minute in a minute, and while the account is locked (lockout_threshold consecutive failures lock it for lockout_seconds), every attempt is 429 auth.too_many_attempts with Retry-After, even with the right password. An unknown email is answered, counted and locked exactly like a known one.'

/** The password step's answer for an account with 2FA on. */
const mfaRequiredResponse = z.object({
  mfa_required: z.literal(true),
  mfa_token: z.string().describe('Single use; send it with a code to POST /v1/auth/login/2fa'),
  expires_in: z.number().int().describe('Seconds until the mfa_token expires'),
})

/** On every answer that carries a token or secret (RFC 6749 §5.1): no cache may keep it. */
export const NO_STORE_HEADERS: Readonly<Record<string, string>> = {'Cache-Control': 'no-store', Pragma: 'no-cache'}

/** Registration, login, tokens and sessions: thin wrappers over core.sessions. */
export function authRoutes({core, metrics}: {core: Core; metrics: Metrics}): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/auth/register',
      summary: 'Create an account with a personal organization, and log in',
      description:
        'A verification link is mailed to the address. With require_verified_email the answer carries no tokens but `email_verification_required: true`: the user logs in once the address is verified.',
      tags: ['auth'],
      body: registerSchema,
      responses: {
        201: {
          description: 'The user, their organization and tokens bound to it; with require_verified_email, no tokens yet',
          schema: z.union([
            z.object({user: userResponse, org: orgResponse, ...tokenFields}),
            z.object({user: userResponse, org: orgResponse, email_verification_required: z.literal(true)}),
          ]),
        },
      },
      async handle({body, client}) {
        const registration = await core.sessions.register(client, body)
        const {user, org} = registration
        if (registration.emailVerificationRequired) return {status: 201, body: {user, org, emailVerificationRequired: true}, headers: NO_STORE_HEADERS}
        return {status: 201, body: {user, org, ...registration.tokens}, headers: NO_STORE_HEADERS}
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/login',
      summary: 'Log in with email and password; with an organization named, the tokens are bound to it',
      description: `${TENANT_CONTEXT} ${LOGIN_DEFENCE} For an account with 2FA on, a right password answers \`{mfa_required: true, mfa_token}\` and no tokens: send the mfa_token with a code to POST /v1/auth/login/2fa.`,
      tags: ['auth'],
      body: loginSchema,
      responses: {200: {description: 'Tokens, or (2FA on) the mfa_token of the second step', schema: z.union([tokenResponse, mfaRequiredResponse])}},
      async handle({body, client, request}) {
        try {
          const step = await core.sessions.beginLogin(client, body, tenantHintsOf(request))
          metrics.recordLogin(step.mfaRequired ? 'mfa_required' : 'success')
          if (step.mfaRequired) return {body: {mfaRequired: true, mfaToken: step.mfaToken, expiresIn: step.expiresIn}, headers: NO_STORE_HEADERS}
          return {body: step.tokens, headers: NO_STORE_HEADERS}
        } catch (error) {
          metrics.recordLogin(loginOutcomeOf(error))
          throw error
        }
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/login/2fa',
      summary: 'Complete a 2FA login: the mfa_token of the password step and a TOTP code or a recovery code',
      description:
        'A wrong, replayed or used code is 401 auth.invalid_mfa_code and counts toward the account lock; the mfa_token stays usable for retries until it expires (mfa_token_ttl_seconds), the minute’s budget of failed codes is spent (429 auth.too_many_attempts with Retry-After) or the account is locked. A right code uses the mfa_token up. An unknown, used or expired mfa_token is 401 auth.invalid_mfa_token. The session is bound to the organization the password step named.',
      tags: ['auth'],
      body: mfaLoginSchema,
      responses: {200: {description: 'Tokens', schema: tokenResponse}},
      async handle({body, client}) {
        try {
          const tokens = await core.sessions.loginWithSecondFactor(client, body)
          metrics.recordLogin('success')
          return {body: tokens, headers: NO_STORE_HEADERS}
        } catch (error) {
          metrics.recordLogin(loginOutcomeOf(error))
          throw error
        }
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/refresh',
      summary: 'Exchange a refresh token for new tokens (the refresh token rotates)',
      description: 'Presenting a refresh token that was already exchanged revokes its whole session.',
      tags: ['auth'],
      body: refreshSchema,
      responses: {200: {description: 'Tokens', schema: tokenResponse}},
      handle: async ({body, client}) => ({body: await core.sessions.refresh(client, body), headers: NO_STORE_HEADERS}),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/switch-org',
      summary: 'An access token bound to another organization the caller belongs to',
      description: `With \`refresh_token\` (the session's current one), it rotates and the answer carries both tokens, and later refreshes keep the new organization; without one, only an access token is returned (an access token alone never mints a refresh token). A refresh token of another session is auth.invalid_refresh_token. ${TENANT_CONTEXT}`,
      tags: ['auth'],
      auth: 'access_token',
      body: switchOrgSchema,
      responses: {200: {description: 'An access token, and a refresh token when one was presented', schema: accessTokenResponse.extend({refresh_token: tokenFields.refresh_token.optional()})}},
      handle: async ({body, caller, client, request}) => ({body: await core.sessions.switchOrg(caller, client, body, tenantHintsOf(request)), headers: NO_STORE_HEADERS}),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/auth/me',
      summary: 'The caller, their memberships and their session',
      tags: ['auth'],
      auth: 'access_token',
      responses: {200: {description: 'The caller', schema: meResponse}},
      handle: async ({caller}) => ({body: await core.sessions.me(caller)}),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/change-password',
      summary: "Change the caller's password; every other session and token ends",
      tags: ['auth'],
      auth: 'access_token',
      body: changePasswordSchema,
      responses: {200: {description: 'Tokens of a new session', schema: tokenResponse}},
      handle: async ({body, caller, client}) => ({body: await core.sessions.changePassword(caller, client, body), headers: NO_STORE_HEADERS}),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/auth/sessions',
      summary: "The caller's live sessions",
      tags: ['sessions'],
      auth: 'access_token',
      responses: {200: {description: 'Sessions, newest first', schema: z.object({sessions: z.array(sessionResponse)})}},
      handle: async ({caller, client}) => ({body: {sessions: await core.sessions.listSessions(userActor(caller, client), {user: caller.userId})}}),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/auth/sessions/:id',
      summary: 'Revoke one of the caller’s sessions',
      tags: ['sessions'],
      auth: 'access_token',
      params: z.object({id: z.string().min(1).max(100)}),
      responses: {204: {description: 'Revoked'}},
      async handle({params, caller, client}) {
        await core.sessions.revokeSession(userActor(caller, client), {session: params.id})
        return {status: 204}
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/logout',
      summary: 'End this session',
      tags: ['sessions'],
      auth: 'access_token',
      responses: {204: {description: 'Logged out'}},
      async handle({caller, client}) {
        await core.sessions.logout(caller, client)
        return {status: 204}
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/logout-all',
      summary: 'End every session of the caller',
      tags: ['sessions'],
      auth: 'access_token',
      responses: {200: {description: 'How many sessions ended', schema: z.object({revoked_sessions: z.number().int()})}},
      handle: async ({caller, client}) => ({body: {revokedSessions: await core.sessions.logoutAll(caller, client)}}),
    }),
  ]
}

function loginOutcomeOf(error: unknown): LoginOutcome {
  if (!isDomainError(error)) return 'error'
  if (error.code === 'auth.invalid_credentials') return 'invalid_credentials'
  if (error.code === 'user.disabled') return 'disabled'
  // Not a member and no such organization are one answer (org.not_found), and one count.
  if (error.code === 'org.not_found') return 'org_not_found'
  if (error.code === 'validation.failed' || error.code === 'tenant.ambiguous') return 'invalid_input'
  if (error.code === 'auth.too_many_attempts') return 'throttled'
  if (error.code === 'auth.email_not_verified') return 'email_not_verified'
  if (error.code === 'auth.mfa_enrollment_required') return 'mfa_enrollment_required'
  if (error.code === 'auth.invalid_mfa_code') return 'invalid_mfa_code'
  if (error.code === 'auth.invalid_mfa_token') return 'invalid_mfa_token'
  return 'error'
}
