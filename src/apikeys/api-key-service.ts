import type {Kysely} from 'kysely'
import {canGrant, canGrantPermissions, canManageMemberAt, isOwnerGrant, type Refusal} from '../access/authorize.js'
import {requireOrgPermission, requirePlatformActor, throwRefusal, type OrgAccess} from '../access/org-access.js'
import type {Actor} from '../access/principal.js'
import {listPermissionsOfRoles, requireRoleInOrg} from '../access/role-repo.js'
import {auditActorOf} from '../audit/actor.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {ApiKeyRow, Database} from '../db/database.js'
import {isUniqueViolation} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import type {PurgeHook} from '../shared/purge-hooks.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {validateInput} from '../shared/validate.js'
import {createApiKeyAuthentication} from './api-key-authentication.js'
import {deleteApiKeysOfOrg, findApiKeyById, insertApiKey, isApiKeyNameTaken, listApiKeyRows, markApiKeyRevoked, toApiKey, toApiKeys, type ApiKey} from './api-key-repo.js'
import {
  createApiKeySchema,
  createPlatformKeySchema,
  listApiKeysSchema,
  resolveExpiry,
  revokeApiKeySchema,
  type CreateApiKeyInput,
  type CreatePlatformKeyInput,
  type ListApiKeysInput,
  type RevokeApiKeyInput,
} from './api-key-schemas.js'
import {generateApiKeySecret, hashApiKeySecret, visiblePrefixOf} from './api-key-secret.js'

/** A new key and its secret: the only moment the secret exists outside its holder. */
export interface CreatedApiKey {
  key: ApiKey
  secret: string
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>

/**
 * API keys (`sk_…`): credentials of one organization that pass the same checks as a member
 * holding the key's role or permissions, or platform keys that act on every organization.
 * Only the SHA-256 of a secret is stored.
 */
export function createApiKeyService(deps: ServiceDeps & {audit: AuditLog}) {
  const {db, audit} = deps

  /** Raises permission.unknown naming every key that is not in the catalog. */
  async function ensureKnownPermissions(tx: Kysely<Database>, keys: string[]): Promise<void> {
    const known = new Set((await tx.selectFrom('permission').select('key').where('key', 'in', keys).execute()).map((row) => row.key))
    const unknown = keys.filter((key) => !known.has(key))
    if (unknown.length > 0) throw new DomainError('permission.unknown', `Unknown permission(s): ${unknown.join(', ')} (see \`saas-ctl permission list\`)`, {unknown})
  }

  /** The ISO expiry of a validated input, refused unless it lies in the future. */
  function expiryOf(expiresAt: string | undefined): string | null {
    if (expiresAt === undefined) return null
    const resolved = resolveExpiry(expiresAt, deps.clock.now())
    if (resolved <= nowIso(deps)) throw new DomainError('validation.failed', 'Invalid expires_at: must be in the future', {problems: [{field: 'expires_at', message: 'must be in the future'}]})
    return resolved
  }

  function nameTaken(name: string, where: string): DomainError {
    return new DomainError('apikey.name_taken', `An API key named "${name}" already exists in ${where}`)
  }

  /**
   * A key made by a key expires no later than its maker (which is capped the same way): else a
   * short-lived key could mint itself a permanent successor. Raises validation.failed.
   */
  async function ensureNotOutlivingCreatorKey(tx: Kysely<Database>, actor: Actor, expiresAt: string | null): Promise<void> {
    if (actor.principal.kind !== 'api_key') return
    const maker = await tx.selectFrom('api_key').select('expires_at').where('id', '=', actor.principal.keyId).executeTakeFirst()
    const makerExpiresAt = maker?.expires_at ?? null
    if (makerExpiresAt === null || (expiresAt !== null && expiresAt <= makerExpiresAt)) return
    throw new DomainError('validation.failed', `A key made by a key must expire no later than it does (${makerExpiresAt})`, {problems: [{field: 'expires_at', message: `must be at or before ${makerExpiresAt}`}]})
  }

  /** Inserts the key and audits it; the secret is returned, never stored or audited. */
  async function writeKey(tx: Kysely<Database>, actor: Actor, fields: Pick<ApiKeyRow, 'org_id' | 'name' | 'role_id' | 'permissions' | 'expires_at'>, shape: {role: string | null; permissions: string[]}): Promise<CreatedApiKey> {
    await ensureNotOutlivingCreatorKey(tx, actor, fields.expires_at)
    const secret = generateApiKeySecret()
    const creator = auditActorOf(actor)
    const row: ApiKeyRow = {
      ...fields,
      id: deps.newId(),
      prefix: visiblePrefixOf(secret),
      secret_hash: hashApiKeySecret(secret),
      created_by_type: creator.type,
      created_by_id: creator.id,
      created_at: nowIso(deps),
      last_used_at: null,
      revoked_at: null,
    }
    await insertApiKey(tx, row)
    const metadata = {name: row.name, prefix: row.prefix, platform: row.org_id === null, role: shape.role, permissions: fields.role_id ? null : shape.permissions, expires_at: row.expires_at}
    await audit.append(tx, actor, {action: 'apikey.created', orgId: row.org_id, target: {type: 'api_key', id: row.id}, metadata})
    return {key: toApiKey({...row, role_key: shape.role}, shape.permissions, row.created_at), secret}
  }

  /**
   * A tenant revokes only keys it could have made: a role key ranking below its own level (or
   * any, for an owner), a permission-list key holding nothing it lacks — so apikeys.manage does
   * not let a low key revoke an owner's. A key may always revoke itself. Null when allowed.
   */
  function revocationRefusal(access: OrgAccess, key: {id: string; role_id: string | null; role_level: number | null; permissions: string | null}): Refusal | null {
    if (access.principal.kind === 'api_key' && access.principal.keyId === key.id) return null
    const refusal = key.role_id
      ? canManageMemberAt(access.grant, key.role_level ?? 0)
      : isOwnerGrant(access.grant) ? null : canGrantPermissions(access.grant, JSON.parse(key.permissions ?? '[]') as string[])
    return refusal && {...refusal, message: refusal.code === 'role.grant_forbidden' ? 'Only an owner may revoke a key whose role ranks at or above yours' : 'You cannot revoke a key holding permissions you do not hold'}
  }

  const authentication = createApiKeyAuthentication(deps)

  return {
    ...authentication,

    /**
     * Creates a key of an organization with a role (it has that role's level and permissions,
     * as the role is now) or a permission list (it grants no roles). Needs apikeys.manage; the
     * key may hold nothing its creator does not. Returns the secret once. Raises
     * validation.failed, org.not_found, permission.denied, role.not_found, role.grant_forbidden,
     * permission.unknown, permission.not_held, apikey.name_taken.
     */
    async createApiKey(actor: Actor, input: CreateApiKeyInput): Promise<CreatedApiKey> {
      const parsed = validateInput(createApiKeySchema, input)
      const expiresAt = expiryOf(parsed.expiresAt)
      try {
        return await inTransaction(db, async (tx) => {
          const access = await requireOrgPermission(tx, actor, parsed.org, 'apikeys.manage', {lockOrg: true})
          const {org} = access
          let role: {id: string; key: string} | null = null
          let permissions: string[]
          if (parsed.role !== undefined) {
            const row = await requireRoleInOrg(tx, org.id, org.slug, parsed.role)
            permissions = (await listPermissionsOfRoles(tx, [row.id])).get(row.id) ?? []
            throwRefusal(canGrant(access.grant, {key: row.key, level: row.level, isBuiltin: row.is_builtin === 1, permissions}))
            role = {id: row.id, key: row.key}
          } else {
            permissions = parsed.permissions ?? []
            await ensureKnownPermissions(tx, permissions)
            throwRefusal(canGrantPermissions(access.grant, permissions))
          }
          if (await isApiKeyNameTaken(tx, org.id, parsed.name)) throw nameTaken(parsed.name, `"${org.slug}"`)
          const fields = {org_id: org.id, name: parsed.name, role_id: role?.id ?? null, permissions: role ? null : JSON.stringify(permissions), expires_at: expiresAt}
          return writeKey(tx, actor, fields, {role: role?.key ?? null, permissions})
        })
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(parsed.name, `"${parsed.org}"`)
        throw error
      }
    },

    /**
     * Creates a platform key: it acts on every organization over HTTP (provisioning scripts).
     * Operators and platform principals only. Raises validation.failed, platform.required, apikey.name_taken.
     */
    async createPlatformKey(actor: Actor, input: CreatePlatformKeyInput): Promise<CreatedApiKey> {
      const parsed = validateInput(createPlatformKeySchema, input)
      const expiresAt = expiryOf(parsed.expiresAt)
      return inTransaction(db, async (tx) => {
        await requirePlatformActor(tx, actor, 'create platform keys')
        if (await isApiKeyNameTaken(tx, null, parsed.name)) throw nameTaken(parsed.name, 'the platform keys')
        return writeKey(tx, actor, {org_id: null, name: parsed.name, role_id: null, permissions: null, expires_at: expiresAt}, {role: null, permissions: []})
      })
    },

    /** The keys of an organization, oldest first, revoked and expired ones included. Needs apikeys.manage. Raises org.not_found, permission.denied. */
    async listApiKeys(actor: Actor, input: ListApiKeysInput): Promise<ApiKey[]> {
      const parsed = validateInput(listApiKeysSchema, input)
      return inTransaction(db, async (tx) => {
        const access = await requireOrgPermission(tx, actor, parsed.org, 'apikeys.manage')
        return toApiKeys(tx, await listApiKeyRows(tx, access.org.id), nowIso(deps))
      })
    },

    /** The platform keys, oldest first. Raises platform.required. */
    async listPlatformKeys(actor: Actor): Promise<ApiKey[]> {
      return inTransaction(db, async (tx) => {
        await requirePlatformActor(tx, actor, 'list platform keys')
        return toApiKeys(tx, await listApiKeyRows(tx, null), nowIso(deps))
      })
    },

    /**
     * Revokes a key: every daemon refuses it on its next request (each request reads the key).
     * With `org`, only that organization's keys are found and apikeys.manage is needed (a key
     * of another org is apikey.not_found); without, operators and platform principals revoke
     * any key by id. A tenant may revoke only keys it could have made (see revocationRefusal).
     * Revoking a revoked key changes nothing. Raises org.not_found, permission.denied,
     * role.grant_forbidden, permission.not_held, platform.required, apikey.not_found.
     */
    async revokeApiKey(actor: Actor, input: RevokeApiKeyInput): Promise<ApiKey> {
      const parsed = validateInput(revokeApiKeySchema, input)
      return inTransaction(db, async (tx) => {
        let row
        if (parsed.org !== undefined) {
          const access = await requireOrgPermission(tx, actor, parsed.org, 'apikeys.manage', {lockOrg: true})
          row = await findApiKeyById(tx, parsed.id, {orgId: access.org.id})
          if (row) throwRefusal(revocationRefusal(access, row))
        } else {
          await requirePlatformActor(tx, actor, 'revoke a key without naming its organization')
          row = await findApiKeyById(tx, parsed.id)
        }
        if (!row) throw new DomainError('apikey.not_found', `No API key "${parsed.id}"${parsed.org === undefined ? '' : ` in "${parsed.org}"`}`)
        const now = nowIso(deps)
        if (await markApiKeyRevoked(tx, row.id, now)) {
          row = {...row, revoked_at: now}
          await audit.append(tx, actor, {action: 'apikey.revoked', orgId: row.org_id, target: {type: 'api_key', id: row.id}, metadata: {name: row.name, prefix: row.prefix, platform: row.org_id === null}})
        }
        const [key] = await toApiKeys(tx, [row], now)
        return key!
      })
    },

    /** The org purge hook: an organization's keys go with it (register after custom roles, which they point at). */
    purgeHook: {name: 'apiKeys', purgeOrg: (tx, orgId) => deleteApiKeysOfOrg(tx, orgId)} satisfies PurgeHook,
  }
}
