import type {Kysely} from 'kysely'
import type {Database, InvitationRow, OrganizationRow} from '../db/database.js'
import {DomainError} from '../errors/domain-error.js'

/** One invitation is mailed at most once a minute (its creation counts as a send). */
export const INVITATION_RESEND_COOLDOWN_SECONDS = 60

/** The window of the per-organization cap on invitation mails (setting invitation_mails_per_day). */
export const INVITATION_MAIL_WINDOW_MS = 86_400_000

/** The audited actions that each mailed one invitation: what the daily cap counts. */
const MAILING_ACTIONS = ['invitation.created', 'invitation.resent'] as const

/**
 * Raises invitation.resend_too_soon (429, details.retry_after_seconds) when the invitation was
 * mailed (created or resent) less than a minute ago, so nobody floods the invitee's mailbox.
 */
export function assertResendCooldown(row: Pick<InvitationRow, 'id' | 'sent_at'>, now: string): void {
  const elapsedMs = Date.parse(now) - new Date(row.sent_at).getTime()
  const waitMs = INVITATION_RESEND_COOLDOWN_SECONDS * 1000 - elapsedMs
  if (waitMs <= 0) return
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000))
  throw new DomainError('invitation.resend_too_soon', `Invitation ${row.id} was mailed less than ${INVITATION_RESEND_COOLDOWN_SECONDS} s ago; retry in ${retryAfterSeconds} s`, {
    retry_after_seconds: retryAfterSeconds,
  })
}

/**
 * Raises invitation.daily_limit (429, details.limit and retry_after_seconds) when the
 * organization already mailed `perDay` (0: no cap) invitations (created plus resent) in the last 24 hours,
 * as its audit log counts them: every creation and resend is audited in the transaction that
 * queues its mail, so the log is the exact record (audit_retention_days is at least one day).
 * Call it with the org row locked (requireOrgPermission(..., {lockOrg: true})), in the
 * transaction that then mails: concurrent invites and resends are counted one at a time and
 * cannot overshoot. Invite→revoke→invite loops count each mail.
 */
export async function assertInvitationMailBudget(tx: Kysely<Database>, org: Pick<OrganizationRow, 'id' | 'slug'>, perDay: number, now: string): Promise<void> {
  if (perDay === 0) return
  const since = new Date(Date.parse(now) - INVITATION_MAIL_WINDOW_MS).toISOString()
  // The last 24 hours, the instant 24 h ago excluded. The window's first seq bounds the scan of the org's events to the last 24 hours (index org_id, seq).
  const firstSeq = tx.selectFrom('audit_event').select((eb) => eb.fn.min('seq').as('first')).where('created_at', '>', since)
  const sent = await tx
    .selectFrom('audit_event')
    .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.min('created_at').as('oldest')])
    .where('org_id', '=', org.id)
    .where('seq', '>=', firstSeq)
    .where('created_at', '>', since)
    .where('action', 'in', MAILING_ACTIONS)
    .executeTakeFirstOrThrow()
  if (Number(sent.count) < perDay) return
  const oldest = sent.oldest === null ? Date.parse(now) : new Date(sent.oldest as string | Date).getTime()
  const retryAfterSeconds = Math.max(1, Math.ceil((oldest + INVITATION_MAIL_WINDOW_MS - Date.parse(now)) / 1000))
  throw new DomainError('invitation.daily_limit', `"${org.slug}" mailed ${perDay} invitation(s) in the last 24 hours, its limit; retry in ${retryAfterSeconds} s`, {
    limit: perDay,
    retry_after_seconds: retryAfterSeconds,
  })
}
