import type {TokenAuthenticator} from '../identity/token-authenticator.js'
import type {Principal} from './principal.js'

/** Checks an API key secret (`sk_…`) and names its principal; raises auth.invalid_token. */
export interface ApiKeyVerifier {
  authenticate(secret: string): Promise<Extract<Principal, {kind: 'api_key'}>>
}

export const API_KEY_PREFIX = 'sk_'

export type BearerAuthenticator = ReturnType<typeof createBearerAuthenticator>

/**
 * The principal behind a Bearer credential: an API key (`sk_…`) or an access token (a user).
 * Raises auth.invalid_token with details.reason.
 */
export function createBearerAuthenticator(deps: {tokens: TokenAuthenticator; apiKeys: ApiKeyVerifier}) {
  return {
    async authenticate(credential: string): Promise<Principal> {
      if (credential.startsWith(API_KEY_PREFIX)) return deps.apiKeys.authenticate(credential)
      const token = await deps.tokens.authenticate(credential)
      // The voided binding is carried along: the rate limiter must not charge that org for it.
      return {kind: 'user', userId: token.userId, sessionId: token.sessionId, boundOrgId: token.orgId, ...(token.isOrgBindingRevoked ? {isOrgBindingRevoked: true} : {})}
    },
  }
}
