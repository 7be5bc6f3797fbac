import {composeMail, linkTo, type MailMessage} from '../mail/mail-message.js'

/**
 * The mails of email verification, password reset and email changes. Links point at the
 * product's pages under public_url (`/verify-email?token=…`, `/reset-password?token=…`,
 * `/forgot-password`): the daemon serves minimal ones itself (daemon/routes/account-pages.ts);
 * an app whose public_url is its own frontend serves its own, which post the token to the API.
 */

interface Recipient {
  id: string
  email: string
}

/** Where a verification link leads (public_url + this path, ?token=…). */
export const VERIFY_EMAIL_PATH = '/verify-email'
/** Where a reset link leads (public_url + this path, ?token=…). */
export const RESET_PASSWORD_PATH = '/reset-password'
/** Where a user asks for a reset link (public_url + this path): the lockout and new-device mails point here. */
export const FORGOT_PASSWORD_PATH = '/forgot-password'

export function verifyEmailMail(publicUrl: string, user: Recipient, token: string, ttlSeconds: number): MailMessage {
  return composeMail({
    kind: 'verify_email',
    to: user.email,
    userId: user.id,
    subject: 'Confirm your email address',
    paragraphs: [`Please confirm that ${user.email} is your address: open the link below within ${describeDuration(ttlSeconds)}.`, 'If you did not sign up or change your address, ignore this mail.'],
    action: {label: 'Confirm my email address', url: linkTo(publicUrl, VERIFY_EMAIL_PATH, {token})},
  })
}

export function passwordResetMail(publicUrl: string, user: Recipient, token: string, ttlSeconds: number): MailMessage {
  return composeMail({
    kind: 'password_reset',
    to: user.email,
    userId: user.id,
    subject: 'Reset your password',
    paragraphs: [
      `Someone asked to reset the password of ${user.email}. To choose a new one, open the link below within ${describeDuration(ttlSeconds)}; it works once.`,
      'Resetting signs you out everywhere. If you did not ask for this, ignore this mail: your password stays as it is.',
    ],
    action: {label: 'Choose a new password', url: linkTo(publicUrl, RESET_PASSWORD_PATH, {token})},
  })
}

export function passwordResetDoneMail(user: Recipient): MailMessage {
  return composeMail({
    kind: 'password_reset_done',
    to: user.email,
    userId: user.id,
    subject: 'Your password was reset',
    paragraphs: [`The password of ${user.email} was just reset with a link sent to this address, and every session was signed out.`, 'If this was not you, reset your password again at once and contact your administrator.'],
  })
}

/** To the old address when an account's email changes, so a takeover does not go unnoticed. */
export function emailChangedNoticeMail(user: Recipient, oldEmail: string, newEmail: string): MailMessage {
  return composeMail({
    kind: 'email_changed',
    to: oldEmail,
    userId: user.id,
    subject: 'Your email address was changed',
    paragraphs: [`The email address of your account was changed from ${oldEmail} to ${newEmail}. Mails about the account now go there.`, 'If you did not make this change, contact your administrator at once.'],
  })
}

function describeDuration(seconds: number): string {
  if (seconds % 86_400 === 0) return plural(seconds / 86_400, 'day')
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour')
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute')
  return plural(seconds, 'second')
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`
}
