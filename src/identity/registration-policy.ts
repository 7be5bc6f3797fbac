import {DomainError} from '../errors/domain-error.js'

/**
 * Who may create an account without an operator (setting `registration`):
 * - open: anyone, with POST /v1/auth/register;
 * - invite_only: only someone invited, by accepting the invitation (src/invitations/);
 * - closed: nobody, invitations included (operators still create users with `saas-ctl user create`).
 */
export type RegistrationPolicy = 'open' | 'invite_only' | 'closed'

/**
 * Raises registration.closed unless self-registration is open. Accepting an invitation is the
 * one other way to create an account under invite_only: that path checks the invitation
 * instead of calling this (see isInvitationRegistrationAllowed).
 */
export function assertSelfRegistrationAllowed(policy: RegistrationPolicy): void {
  if (policy === 'open') return
  throw new DomainError('registration.closed', policy === 'invite_only' ? 'Registration is by invitation only' : 'Registration is closed')
}

/** Whether accepting an invitation may create an account (closed refuses even those). */
export function isInvitationRegistrationAllowed(policy: RegistrationPolicy): boolean {
  return policy !== 'closed'
}
