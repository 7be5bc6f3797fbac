import {PERMISSION_KEYS} from '../access/permission-catalog.js'
import type {ApiKeyVerifier} from '../access/bearer-authenticator.js'
import {findApiKeyGrantRow} from '../access/grant-repo.js'
import type {Principal} from '../access/principal.js'
import type {ApiKeyRow} from '../db/database.js'
import {DomainError} from '../errors/domain-error.js'
import type {ServiceDeps} from '../shared/service-deps.js'
import {findApiKeyByHash, statusOf, touchApiKeyLastUsed} from './api-key-repo.js'
import {hashApiKeySecret, isWellFormedApiKeySecret} from './api-key-secret.js'

/** A busy key records its use at most this often, so reads do not write on every request. */
const LAST_USED_INTERVAL_MS = 60_000

/** What introspection tells about a live key, as it is now. */
export interface ApiKeyIntrospection {
  keyId: string
  name: string
  /** null for a platform key. */
  orgId: string | null
  isPlatform: boolean
  role: string | null
  permissions: string[]
  createdAt: string
  expiresAt: string | null
}

type ApiKeyPrincipal = Extract<Principal, {kind: 'api_key'}>

function invalidKey(reason: 'invalid' | 'token_revoked' | 'expired'): DomainError {
  // One message for every reason: the caller learns only that the key does not work.
  return new DomainError('auth.invalid_token', 'The API key is invalid, revoked or expired', {reason})
}

/** Checking a presented secret: the ApiKeyVerifier of the bearer authenticator, and introspection. */
export function createApiKeyAuthentication(deps: ServiceDeps) {
  const {db} = deps

  /** The key row behind a secret if it works now; records the use at most once a minute. */
  async function findWorkingKey(secret: string): Promise<ApiKeyRow> {
    // Looked up by the SHA-256 of the secret: the time taken depends on the hash, never on how
    // much of a stored secret the presented one matches.
    if (!isWellFormedApiKeySecret(secret)) throw invalidKey('invalid')
    const row = await findApiKeyByHash(db, hashApiKeySecret(secret))
    if (!row) throw invalidKey('invalid')
    const now = deps.clock.now()
    const status = statusOf(row, now.toISOString())
    if (status === 'revoked') throw invalidKey('token_revoked')
    if (status === 'expired') throw invalidKey('expired')
    const staleBefore = new Date(now.getTime() - LAST_USED_INTERVAL_MS).toISOString()
    if (row.last_used_at === null || row.last_used_at < staleBefore) {
      // Best effort: a busy database must not refuse a valid key over its last-used time.
      await touchApiKeyLastUsed(db, row.id, now.toISOString(), staleBefore).catch(() => undefined)
    }
    return row
  }

  const verifier = {
    /**
     * The principal behind an API key secret. The key row is read on every call, so a
     * revocation bites on the next request in every process. Raises auth.invalid_token with
     * details.reason invalid, token_revoked or expired.
     */
    async authenticate(secret: string): Promise<ApiKeyPrincipal> {
      const row = await findWorkingKey(secret)
      return {kind: 'api_key', keyId: row.id, name: row.name, orgId: row.org_id}
    },
  } satisfies ApiKeyVerifier

  return {
    authenticate: verifier.authenticate,

    /**
     * What a live key may do now (RFC 7662 introspection): its organization and its role's or
     * own permissions; null when the key is unknown, revoked, expired, or its organization is
     * deleted.
     */
    async introspectApiKey(secret: string): Promise<ApiKeyIntrospection | null> {
      let row: ApiKeyRow
      try {
        row = await findWorkingKey(secret)
      } catch (error) {
        if (error instanceof DomainError && error.code === 'auth.invalid_token') return null
        throw error
      }
      const grant = await findApiKeyGrantRow(db, row.id)
      if (!grant) return null
      if (row.org_id !== null) {
        const org = await db.selectFrom('organization').select('deleted_at').where('id', '=', row.org_id).executeTakeFirst()
        if (!org || org.deleted_at) return null
      }
      return {
        keyId: row.id,
        name: row.name,
        orgId: row.org_id,
        isPlatform: grant.isPlatform,
        role: grant.grant.roleKey,
        permissions: grant.isPlatform ? [...PERMISSION_KEYS] : [...grant.grant.permissions].sort(),
        createdAt: row.created_at,
        expiresAt: row.expires_at,
      }
    },
  }
}
