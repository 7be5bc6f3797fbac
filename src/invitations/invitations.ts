import {createInvitationAcceptance, type InvitationAcceptanceDeps} from './invitation-acceptance.js'
import {invitationsPurgeHook} from './invitation-purge-hook.js'
import {createInvitationManagement, type InvitationDeps} from './invitation-service.js'

export type InvitationService = ReturnType<typeof createInvitationService>

/**
 * Invitations (`core.invitations`): an organization's side (invite, list, resend, revoke) and
 * the invitee's (show by token, accept). Their rows go with their org (purgeHook).
 */
export function createInvitationService(deps: InvitationDeps & InvitationAcceptanceDeps) {
  return {
    ...createInvitationManagement(deps),
    ...createInvitationAcceptance(deps),
    purgeHook: invitationsPurgeHook,
  }
}
