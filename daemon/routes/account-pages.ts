import type {Request} from 'express'
import {z} from 'zod'
import type {Core} from '../../src/core.js'
import {isDomainError} from '../../src/errors/domain-error.js'
import {FORGOT_PASSWORD_PATH, RESET_PASSWORD_PATH, VERIFY_EMAIL_PATH} from '../../src/identity/account-mails.js'
import {PASSWORD_MIN_LENGTH} from '../../src/security/password-policy.js'
import {ACCOUNT_PAGE_CSP, ACCOUNT_PAGES_CSS, ACCOUNT_PAGES_STYLESHEET, html, link, paragraph, postForm, problemNote, renderAccountPage, type AccountPage} from '../account-page-html.js'
import {describeErrorForLog, describeHttpFailure} from '../http-errors.js'
import type {Logger} from '../logger.js'
import {defineRoute, type AnyRoute, type RouteResult} from '../openapi/route.js'
import {PASSWORD_FORGOT_ANSWER} from './account.js'

/**
 * Headers of every page: the token is in the address (and in the form), so no cache keeps the
 * page and no Referer carries the address off; the page's own strict CSP (no script at all).
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': ACCOUNT_PAGE_CSP,
  'X-Robots-Tag': 'noindex, nofollow',
}

const HTML = 'text/html; charset=utf-8'

/**
 * A field of a page's query or form, taken leniently: anything that is not one string (absent,
 * repeated) reads as absent, so the page answers in HTML (the invalid-link page) rather than
 * with the API's JSON validation error.
 */
export const pageField = z.string().optional().catch(undefined)
const tokenQuery = z.object({token: pageField})
const verifyForm = z.object({token: pageField})
const resetForm = z.object({token: pageField, password: pageField, passwordConfirmation: pageField})
const forgotForm = z.object({email: pageField})

/**
 * Where a page's form posts and its links lead: the page's path under public_url's path. Mails
 * link to public_url + the page's path, so behind a proxy that serves the daemon under a prefix
 * (public_url https://example.com/auth) the pages post to /auth/… too.
 */
type PagePath = (path: string) => string

const INVALID_LINK_MESSAGE = 'This link is invalid, was already used or has expired.'

/**
 * The account pages mails link to, served by the daemon itself (like PocketBase's or
 * Keycloak's), at the paths under public_url the links name: confirm an email address, choose
 * a new password, ask for a reset link. Plain HTML forms, no script. A GET never changes
 * anything (mail scanners fetch links): it shows a form whose button posts the token. Each
 * POST calls the same core service as its API route, with the request's origin, so the same
 * rules, audit and per-IP failure budgets apply. An app whose public_url is its own frontend
 * serves these paths itself, and its pages call the API.
 */
export function accountPageRoutes({core}: {core: Core}): AnyRoute[] {
  const prefix = new URL(core.publicUrl).pathname.replace(/\/+$/, '')
  const at: PagePath = (path) => `${prefix}${path}`
  const page = (status: number, content: AccountPage, headers: Record<string, string> = {}): RouteResult => ({
    status,
    body: renderAccountPage(content, {stylesheet: at(ACCOUNT_PAGES_STYLESHEET)}),
    contentType: HTML,
    headers: {...PAGE_HEADERS, ...headers},
  })
  return [
    defineRoute({
      method: 'get',
      path: ACCOUNT_PAGES_STYLESHEET,
      summary: 'The stylesheet of the account pages',
      tags: ['account'],
      isHidden: true,
      responses: {200: {description: 'CSS', contentType: 'text/css'}},
      handle: () => ({body: ACCOUNT_PAGES_CSS, contentType: 'text/css; charset=utf-8', headers: {'Cache-Control': 'public, max-age=86400'}}),
    }),

    defineRoute({
      method: 'get',
      path: VERIFY_EMAIL_PATH,
      summary: 'The page a verification link opens: a button that confirms the address',
      tags: ['account'],
      isHidden: true,
      query: tokenQuery,
      responses: {200: {description: 'HTML', contentType: 'text/html'}},
      handle: ({query}) => {
        if (!query.token) return page(400, invalidLinkPage(at, 'verify'))
        return page(200, {
          title: 'Confirm your email address',
          content: html`${paragraph('Press the button to confirm that this email address is yours.')}${postForm({action: at(VERIFY_EMAIL_PATH), hidden: {token: query.token}, submitLabel: 'Confirm my email address'})}`,
        })
      },
    }),
    defineRoute({
      method: 'post',
      path: VERIFY_EMAIL_PATH,
      summary: 'Confirm an email address from the verification page',
      tags: ['account'],
      isHidden: true,
      body: verifyForm,
      bodyFormats: ['form'],
      responses: {200: {description: 'HTML', contentType: 'text/html'}},
      handle: ({body, client, request, log}) =>
        answering({request, log, requestId: client.requestId, page, invalidLink: invalidLinkPage(at, 'verify')}, async () => {
          if (!body.token) return page(400, invalidLinkPage(at, 'verify'))
          const {email} = await core.account.verifyEmail(client, {token: body.token})
          return page(200, {title: 'Email address confirmed', content: paragraph(`Thank you: ${email} is confirmed. You can close this page.`)})
        }),
    }),

    defineRoute({
      method: 'get',
      path: RESET_PASSWORD_PATH,
      summary: 'The page a reset link opens: the form for a new password',
      tags: ['account'],
      isHidden: true,
      query: tokenQuery,
      responses: {200: {description: 'HTML', contentType: 'text/html'}},
      handle: ({query}) => (query.token ? page(200, resetPasswordPage(at, query.token)) : page(400, invalidLinkPage(at, 'reset'))),
    }),
    defineRoute({
      method: 'post',
      path: RESET_PASSWORD_PATH,
      summary: 'Set a new password from the reset page',
      tags: ['account'],
      isHidden: true,
      body: resetForm,
      bodyFormats: ['form'],
      responses: {200: {description: 'HTML', contentType: 'text/html'}},
      handle: ({body, client, request, log}) =>
        answering({request, log, requestId: client.requestId, page, invalidLink: invalidLinkPage(at, 'reset')}, async () => {
          const {token, password = '', passwordConfirmation = ''} = body
          if (!token) return page(400, invalidLinkPage(at, 'reset'))
          if (password !== passwordConfirmation) return page(422, resetPasswordPage(at, token, 'The two passwords do not match.'))
          try {
            await core.account.resetPassword(client, {token, password})
          } catch (error) {
            // The policy's message names the rule, never the password; the link stays usable.
            if (isDomainError(error) && error.code === 'password.too_weak') return page(422, resetPasswordPage(at, token, error.message))
            throw error
          }
          return page(200, {title: 'Password changed', content: paragraph('Your password is changed and every session was signed out. Sign in again with your new password.')})
        }),
    }),

    defineRoute({
      method: 'get',
      path: FORGOT_PASSWORD_PATH,
      summary: 'The page to ask for a password reset link',
      tags: ['account'],
      isHidden: true,
      responses: {200: {description: 'HTML', contentType: 'text/html'}},
      handle: () => page(200, forgotPasswordPage(at)),
    }),
    defineRoute({
      method: 'post',
      path: FORGOT_PASSWORD_PATH,
      summary: 'Ask for a password reset link from the forgot-password page',
      tags: ['account'],
      isHidden: true,
      body: forgotForm,
      bodyFormats: ['form'],
      responses: {200: {description: 'HTML', contentType: 'text/html'}},
      handle: ({body, client, request, log}) =>
        answering({request, log, requestId: client.requestId, page, invalidLink: invalidLinkPage(at, 'reset')}, async () => {
          const email = body.email ?? ''
          try {
            await core.account.requestPasswordReset(client, {email})
          } catch (error) {
            if (isDomainError(error) && error.code === 'validation.failed') return page(422, forgotPasswordPage(at, email, 'Enter a valid email address.'))
            throw error
          }
          // One answer whether or not an account uses the address.
          return page(200, {title: 'Check your mail', content: html`${paragraph(PASSWORD_FORGOT_ANSWER.message)}${paragraph('The link works once and for a limited time. No mail? Check the spelling and your spam folder, then ask again.', 'hint')}`})
        }),
    }),
  ]
}

type LinkKind = 'verify' | 'reset'

function invalidLinkPage(at: PagePath, kind: LinkKind): AccountPage {
  const next =
    kind === 'reset'
      ? html`<p>${link(at(FORGOT_PASSWORD_PATH), 'Ask for a new link')}.</p>`
      : paragraph('Sign in to the app and ask for a new verification mail: only the newest link works.')
  return {title: 'This link does not work', content: html`${paragraph(INVALID_LINK_MESSAGE)}${next}`}
}

function resetPasswordPage(at: PagePath, token: string, problem?: string): AccountPage {
  return {
    title: 'Choose a new password',
    content: html`${problem ? problemNote(problem) : ''}${postForm({
      action: at(RESET_PASSWORD_PATH),
      hidden: {token},
      fields: [
        {name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', minLength: PASSWORD_MIN_LENGTH},
        {name: 'password_confirmation', label: 'New password again', type: 'password', autocomplete: 'new-password', minLength: PASSWORD_MIN_LENGTH},
      ],
      submitLabel: 'Change my password',
    })}${paragraph(`At least ${PASSWORD_MIN_LENGTH} characters; a phrase of several words is easy to remember and hard to guess. Changing it signs you out everywhere.`, 'hint')}`,
  }
}

function forgotPasswordPage(at: PagePath, email = '', problem?: string): AccountPage {
  return {
    title: 'Forgot your password?',
    content: html`${problem ? problemNote(problem) : ''}${paragraph('Enter the email address of your account: we will mail you a link to choose a new password.')}${postForm({
      action: at(FORGOT_PASSWORD_PATH),
      fields: [{name: 'email', label: 'Email address', type: 'email', value: email, autocomplete: 'email'}],
      submitLabel: 'Send me a link',
    })}`,
  }
}

/**
 * Runs a page's request. Refuses a POST a browser says came from another site (Sec-Fetch-Site),
 * so another site cannot send the forms in the user's name; a GET (which changes nothing) is
 * answered whatever its Sec-Fetch-Site: it is how a link in a mail opens, and a click in a
 * webmail is cross-site. Errors become pages, never the API's
 * JSON nor a stack: a wrong, used or expired token (and a malformed one) the invalid-link page
 * with its status, an exhausted failure budget 429 with Retry-After, a fault of the server a
 * 500 page (logged with its cause, as the error handler logs it).
 */
export async function answering(
  context: {request: Request; log: Logger; requestId: string; page: (status: number, content: AccountPage, headers?: Record<string, string>) => RouteResult; invalidLink: AccountPage},
  work: () => Promise<RouteResult>,
): Promise<RouteResult> {
  const {page} = context
  const site = context.request.get('Sec-Fetch-Site')
  const isSafe = context.request.method === 'GET' || context.request.method === 'HEAD'
  if (!isSafe && site !== undefined && site !== 'same-origin' && site !== 'none') {
    return page(403, {title: 'Request refused', content: paragraph('This form can only be sent from its own page. Open the link from your mail again.')})
  }
  try {
    return await work()
  } catch (error) {
    const failure = describeHttpFailure(error, context.requestId)
    const code = isDomainError(error) ? error.code : null
    // A token too long to be one of ours is malformed (not counted); a wrong one is 422 like the API's.
    if (code === 'validation.failed') return page(400, context.invalidLink)
    if (code === 'auth.invalid_link_token') return page(failure.status, context.invalidLink)
    if (failure.status === 429) {
      const wait = failure.headers['Retry-After']
      const when = wait ? `Try again in ${wait} seconds.` : 'Try again later.'
      return page(429, {title: 'Too many attempts', content: paragraph(`Too many wrong links came from your network. ${when}`)}, failure.headers)
    }
    if (failure.isServerFault) {
      context.log.error({method: context.request.method, route: context.request.path, err: describeErrorForLog(error)}, 'request failed')
    }
    return page(failure.status, {title: 'Something went wrong', content: html`${paragraph('Your request could not be completed. Please try again later.')}${paragraph(`Reference: ${context.requestId}`, 'hint')}`})
  }
}
