/**
 * Who is acting, and from where. Every service method takes an Actor; the service decides
 * what the principal may do (see authorize.ts and org-access.ts) and the audit log records it,
 * so the CLI and the daemon leave the same trail.
 *
 * A principal names *who* acts; what it may do is never carried here. It is read inside the
 * service's transaction (the membership, the API key, the platform-admin flag as they are now),
 * so a demotion, a removal or a revoked key bites on the very next call.
 */
export type Principal =
  /** An operator at the saas-ctl command line: whoever holds the database. Passes every check. */
  | {kind: 'operator'; name: string}
  /**
   * A user behind an access token: its session and the organization the token is bound to.
   * isOrgBindingRevoked: the token's binding to boundOrgId was voided since it was issued (the
   * member was removed, the org deleted); the token no longer speaks for that org (absent: false).
   */
  | {kind: 'user'; userId: string; sessionId: string; boundOrgId: string | null; email?: string | null; isOrgBindingRevoked?: boolean}
  /** An API key (`sk_…`): of one organization, or a platform key (orgId null) that acts on every org. */
  | {kind: 'api_key'; keyId: string; name: string; orgId: string | null}
  /** Background jobs of the daemon. */
  | {kind: 'system'; name: string}

export type PrincipalKind = Principal['kind']

/** Where a request came from; recorded on sessions and in the audit log. */
export interface RequestOrigin {
  ip?: string | null
  userAgent?: string | null
  requestId?: string | null
}

/** The acting party of one service call. */
export interface Actor {
  principal: Principal
  origin: RequestOrigin
}

/** The operator at the command line, named by their OS user name. */
export function operatorActor(osUserName: string): Actor {
  return {principal: {kind: 'operator', name: osUserName}, origin: {}}
}

/** The daemon's background jobs. */
export const SYSTEM_ACTOR: Actor = {principal: {kind: 'system', name: 'saas-ctl'}, origin: {}}

/** A user acting through an access token. */
export function userActor(
  token: {userId: string; sessionId: string; orgId: string | null; email?: string | null},
  origin: RequestOrigin = {},
): Actor {
  return {principal: {kind: 'user', userId: token.userId, sessionId: token.sessionId, boundOrgId: token.orgId, email: token.email ?? null}, origin}
}
