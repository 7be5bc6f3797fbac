import type {Invitation} from '../../src/invitations/invitation-repo.js'
import {renderRecord, renderTable} from '../lib/render-table.js'

export function renderInvitation(invitation: Invitation): string {
  return renderRecord([
    ['id', invitation.id],
    ['email', invitation.email],
    ['role', invitation.role],
    ['status', invitation.status],
    ['invited by', invitation.invitedBy.name],
    ['created', invitation.createdAt],
    ['expires', invitation.expiresAt],
    ['resent', invitation.resendCount],
  ])
}

export function renderInvitations(invitations: Invitation[]): string {
  return renderTable(invitations, [
    {header: 'email', value: (invitation) => invitation.email},
    {header: 'role', value: (invitation) => invitation.role},
    {header: 'invited by', value: (invitation) => invitation.invitedBy.name},
    {header: 'expires', value: (invitation) => invitation.expiresAt},
    {header: 'resent', value: (invitation) => invitation.resendCount},
    {header: 'id', value: (invitation) => invitation.id},
  ])
}
