import {composeMail, linkTo, type MailMessage} from '../mail/mail-message.js'

/**
 * Where an invitation's link leads (public_url + this path, ?token=…): the app's page that shows
 * the invitation (GET /v1/invitations/{token}) and accepts it (POST …/accept).
 */
export const ACCEPT_INVITATION_PATH = '/accept-invitation'

export function acceptInvitationUrl(publicUrl: string, token: string): string {
  return linkTo(publicUrl, ACCEPT_INVITATION_PATH, {token})
}

export interface InvitationMailContent {
  to: string
  /** The account the address belongs to, if one exists. */
  userId: string | null
  orgName: string
  roleKey: string
  inviterName: string | null
  acceptUrl: string
  ttlSeconds: number
}

export function invitationMail(content: InvitationMailContent): MailMessage {
  const who = content.inviterName ? `${content.inviterName} invited you` : 'You are invited'
  return composeMail({
    kind: 'invitation',
    to: content.to,
    userId: content.userId,
    subject: `You are invited to join ${content.orgName}`,
    paragraphs: [
      `${who} to join ${content.orgName} as ${content.roleKey}. Open the link below within ${describeDays(content.ttlSeconds)} to accept; it works once.`,
      'If you did not expect this invitation, ignore this mail.',
    ],
    action: {label: `Join ${content.orgName}`, url: content.acceptUrl},
  })
}

function describeDays(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? '' : 's'}`
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`
  return `${Math.round(seconds / 60)} minutes`
}
