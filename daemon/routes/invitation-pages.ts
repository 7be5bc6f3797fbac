import {z} from 'zod'
import type {Core} from '../../src/core.js'
import {isDomainError} from '../../src/errors/domain-error.js'
import {ACCEPT_INVITATION_PATH} from '../../src/invitations/invitation-mails.js'
import {PASSWORD_MIN_LENGTH} from '../../src/security/password-policy.js'
import {ACCOUNT_PAGES_STYLESHEET, html, paragraph, postForm, problemNote, renderAccountPage, type AccountPage} from '../account-page-html.js'
import {defineRoute, type AnyRoute, type RouteResult} from '../openapi/route.js'
import {answering, PAGE_HEADERS, pageField} from './account-pages.js'

const HTML = 'text/html; charset=utf-8'
const tokenQuery = z.object({token: pageField})
const acceptForm = z.object({token: pageField, name: pageField, password: pageField, passwordConfirmation: pageField})

const INVALID_INVITATION: AccountPage = {
  title: 'This invitation does not work',
  content: html`${paragraph('This invitation link is invalid, was already used, was revoked or has expired.')}${paragraph('Ask the person who invited you to send it again.')}`,
}

/** The refusals of an acceptance that the page explains instead of a generic error. */
const EXPLAINED: Readonly<Record<string, {status: number; page: AccountPage}>> = {
  'invitation.sign_in_required': {
    status: 401,
    page: {title: 'You already have an account', content: paragraph('An account uses this email address. Sign in to the app with it and accept the invitation there.')},
  },
  'registration.closed': {status: 403, page: {title: 'Registration is closed', content: paragraph('New accounts cannot be created here. Ask the person who invited you.')}},
  'org.seat_limit': {status: 409, page: {title: 'No seat left', content: paragraph('The organization has no free seat. Ask the person who invited you to make room, then open the link again.')}},
  'member.exists': {status: 409, page: {title: 'Already a member', content: paragraph('This account is already a member of the organization.')}},
}

/**
 * The page an invitation's link opens (public_url + /accept-invitation?token=…), served by the
 * daemon like the account pages (no script, strict CSP, cross-site posts refused): it shows who
 * invited whom to which organization and, for an address without an account, a form that
 * creates it and joins (core.invitations.acceptInvitation, with the request's origin, so the
 * per-IP budget of wrong tokens applies). Someone who has an account accepts signed in, through
 * the app (POST /v1/invitations/{token}/accept with their access token). An app whose
 * public_url is its own frontend serves this path itself.
 */
export function invitationPageRoutes({core}: {core: Core}): AnyRoute[] {
  const prefix = new URL(core.publicUrl).pathname.replace(/\/+$/, '')
  const at = (path: string) => `${prefix}${path}`
  const page = (status: number, content: AccountPage, headers: Record<string, string> = {}): RouteResult => ({
    status,
    body: renderAccountPage(content, {stylesheet: at(ACCOUNT_PAGES_STYLESHEET)}),
    contentType: HTML,
    headers: {...PAGE_HEADERS, ...headers},
  })
  const acceptPage = async (client: Parameters<Core['invitations']['showInvitation']>[0], token: string, problem?: string, name = ''): Promise<AccountPage> => {
    const invitation = await core.invitations.showInvitation(client, token)
    const who = invitation.invitedBy ? `${invitation.invitedBy} invited ${invitation.email}` : `${invitation.email} is invited`
    return {
      title: `Join ${invitation.org.name}`,
      content: html`${problem ? problemNote(problem) : ''}${paragraph(`${who} to join ${invitation.org.name} as ${invitation.role}.`)}${paragraph('Choose your name and a password to create your account and join.')}${postForm({
        action: at(ACCEPT_INVITATION_PATH),
        hidden: {token},
        fields: [
          {name: 'name', label: 'Your name', type: 'text', value: name, autocomplete: 'name'},
          {name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', minLength: PASSWORD_MIN_LENGTH},
          {name: 'password_confirmation', label: 'Password again', type: 'password', autocomplete: 'new-password', minLength: PASSWORD_MIN_LENGTH},
        ],
        submitLabel: `Join ${invitation.org.name}`,
      })}${paragraph(`At least ${PASSWORD_MIN_LENGTH} characters. Already have an account with this address? Sign in to the app and accept there. The invitation expires ${invitation.expiresAt}.`, 'hint')}`,
    }
  }

  return [
    defineRoute({
      method: 'get',
      path: ACCEPT_INVITATION_PATH,
      summary: "The page an invitation's link opens",
      tags: ['invitations'],
      isHidden: true,
      rateLimit: 'public',
      query: tokenQuery,
      responses: {200: {description: 'HTML', contentType: 'text/html'}},
      handle: ({query, client, request, log}) =>
        answering({request, log, requestId: client.requestId, page, invalidLink: INVALID_INVITATION}, async () => {
          if (!query.token) return page(400, INVALID_INVITATION)
          return page(200, await acceptPage(client, query.token))
        }),
    }),
    defineRoute({
      method: 'post',
      path: ACCEPT_INVITATION_PATH,
      summary: 'Create the account and join, from the invitation page',
      tags: ['invitations'],
      isHidden: true,
      rateLimit: 'auth',
      body: acceptForm,
      bodyFormats: ['form'],
      responses: {200: {description: 'HTML', contentType: 'text/html'}},
      handle: ({body, client, request, log}) =>
        answering({request, log, requestId: client.requestId, page, invalidLink: INVALID_INVITATION}, async () => {
          const {token, name = '', password = '', passwordConfirmation = ''} = body
          if (!token) return page(400, INVALID_INVITATION)
          if (password !== passwordConfirmation) return page(422, await acceptPage(client, token, 'The two passwords do not match.', name))
          if (name.trim() === '') return page(422, await acceptPage(client, token, 'Enter your name.', name))
          try {
            const accepted = await core.invitations.acceptInvitation(client, token, {name, password})
            return page(200, {title: `Welcome to ${accepted.org.name}`, content: paragraph(`Your account ${accepted.user.email} is ready and a member of ${accepted.org.name}. Sign in to the app with it.`)})
          } catch (error) {
            if (!isDomainError(error)) throw error
            // The policy's message names the rule, never the password; the link stays usable.
            if (error.code === 'password.too_weak') return page(422, await acceptPage(client, token, error.message, name))
            if (error.code === 'validation.failed') return page(422, await acceptPage(client, token, 'Check your name: at most 200 characters, printable ones only.', name))
            const explained = EXPLAINED[error.code]
            if (explained) return page(explained.status, explained.page)
            throw error
          }
        }),
    }),
  ]
}
