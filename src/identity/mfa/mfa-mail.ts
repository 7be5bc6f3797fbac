import {composeMail, type MailMessage} from '../../mail/mail-message.js'

export type MfaChange = 'enabled' | 'disabled' | 'reset' | 'recovery_codes_regenerated'

const SUBJECTS: Record<MfaChange, string> = {
  enabled: 'Two-factor authentication is on',
  disabled: 'Two-factor authentication was turned off',
  reset: 'Your two-factor authentication was reset by an administrator',
  recovery_codes_regenerated: 'New recovery codes were made for your account',
}

const EXPLANATIONS: Record<MfaChange, string> = {
  enabled: 'Two-factor authentication was turned on for your account. Logins now ask for a code from your authenticator app.',
  disabled: 'Two-factor authentication was turned off for your account. Logins no longer ask for a code.',
  reset: 'An administrator removed the authenticator app and the recovery codes of your account. You can set up two-factor authentication again after your next login.',
  recovery_codes_regenerated: 'New recovery codes were made for your account; the earlier ones no longer work.',
}

/** The notice that the user's 2FA changed: so a change they did not make does not go unseen. */
export function mfaChangedMail(user: {id: string; email: string}, change: MfaChange, publicUrl: string): MailMessage {
  return composeMail({
    kind: `mfa_${change}`,
    to: user.email,
    userId: user.id,
    subject: SUBJECTS[change],
    paragraphs: [EXPLANATIONS[change], `If this was not you, change your password at ${publicUrl} and tell your administrator.`],
  })
}

/** A login used a recovery code: the user learns of it, and how many codes are left. */
export function recoveryCodeUsedMail(user: {id: string; email: string}, remaining: number, publicUrl: string): MailMessage {
  return composeMail({
    kind: 'mfa_recovery_code_used',
    to: user.email,
    userId: user.id,
    subject: 'A recovery code was used to sign in',
    paragraphs: [
      `Someone signed in to ${user.email} with one of your recovery codes instead of a code from your authenticator app. ${remaining} unused recovery code${remaining === 1 ? '' : 's'} remain${remaining === 1 ? 's' : ''}.`,
      remaining <= 2 ? 'You are running out of recovery codes: make new ones in your account settings.' : 'Each code works once.',
      `If this was not you, change your password at ${publicUrl} and tell your administrator.`,
    ],
  })
}
