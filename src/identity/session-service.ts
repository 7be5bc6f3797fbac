import type {OrgService} from '../tenancy/org-service.js'
import type {TenantResolutionOptions} from '../tenancy/tenant-resolution.js'
import {createAuthenticationService, type RegistrationDeps} from './authentication-service.js'
import {createLoginCompletion, type LoginDeps} from './login-completion.js'
import {createMfaLoginService} from './mfa-login.js'
import {createPasswordLogin} from './password-login.js'
import type {PasswordConfirmation} from './password-confirmation.js'
import {createSessionAdminService} from './session-admin-service.js'
import {createSessionIssuance, type SessionDeps} from './session-issuance.js'
import {createTokenRevocationService} from './token-revocation-service.js'
import {createTokenRotationService} from './token-rotation-service.js'

export type {AccessTokenSet, RequestContext, SessionPolicy, TokenSet} from './session-issuance.js'
export type {TenantHints} from './authentication-service.js'
export type {LoginStep} from './password-login.js'

export type SessionService = ReturnType<typeof createSessionService>

/**
 * The session services behind one object (`core.sessions`): authentication (register;
 * login with a password, then a second factor when 2FA is on), token rotation (refresh,
 * switch-org), token revocation (RFC 7009) and session administration (sessions, logout,
 * me, password change). Each lives in its own module; they share session-issuance.ts.
 */
export function createSessionService(deps: SessionDeps & {orgs: OrgService; tenancy: TenantResolutionOptions; login: LoginDeps; passwordConfirmation: PasswordConfirmation} & RegistrationDeps) {
  const issuance = createSessionIssuance(deps)
  const completion = createLoginCompletion({...deps, issuance})
  return {
    ...createAuthenticationService({...deps, issuance}),
    ...createPasswordLogin({...deps, issuance, completion}),
    ...createMfaLoginService({...deps, issuance, completion}),
    ...createTokenRotationService({...deps, issuance}),
    ...createTokenRevocationService({...deps, issuance}),
    ...createSessionAdminService({...deps, issuance}),
  }
}
