import type {Actor} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {SigningKeyRow} from '../db/database.js'
import {lockForTransaction} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {generateSigningKey, type StoredSigningKey} from '../security/signing-keys.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'

export interface SigningKeyInfo {
  kid: string
  algorithm: string
  status: 'active' | 'retired'
  createdAt: string
  retiredAt: string | null
  /** When a retired key stops being published and trusted: every token it signed has expired. */
  publishedUntil: string | null
}

export type SigningKeyStore = ReturnType<typeof createSigningKeyStore>

/**
 * The daemon's signing keys in the database. One key is active (signs); after a rotation the
 * previous key is retired but stays published and trusted until every token it signed has
 * expired. Private keys are read only by the daemon, never printed.
 */
export function createSigningKeyStore(deps: ServiceDeps & {audit: AuditLog; accessTokenTtlSeconds: number}) {
  const {db, audit} = deps
  const trustWindowMilliseconds = deps.accessTokenTtlSeconds * 1000

  function isStillTrusted(row: SigningKeyRow, now: number): boolean {
    return row.retired_at === null || Date.parse(row.retired_at) + trustWindowMilliseconds > now
  }

  async function insertKey(actor: Actor, reason: 'first start' | 'rotation'): Promise<StoredSigningKey> {
    const key = await generateSigningKey(deps.clock)
    return inTransaction(db, async (tx) => {
      await lockForTransaction(tx, 'signingKeys')
      const now = nowIso(deps)
      const previouslyActive = await tx.selectFrom('signing_key').select('kid').where('retired_at', 'is', null).execute()
      if (reason === 'first start' && previouslyActive.length > 0) return key // another process got there first
      await tx.updateTable('signing_key').set({retired_at: now}).where('retired_at', 'is', null).execute()
      await tx
        .insertInto('signing_key')
        .values({kid: key.kid, algorithm: key.algorithm, public_jwk: JSON.stringify(key.publicJwk), private_jwk: JSON.stringify(key.privateJwk), created_at: key.createdAt.toISOString(), retired_at: null})
        .execute()
      await audit.append(tx, actor, {
        action: reason === 'rotation' ? 'key.rotated' : 'key.created',
        target: {type: 'signing_key', id: key.kid},
        metadata: {kid: key.kid, algorithm: key.algorithm, retired: previouslyActive.map((row) => row.kid)},
      })
      return key
    })
  }

  return {
    /** Keys that still sign or verify, for the daemon's key ring and the JWKS. */
    async loadTrustedKeys(): Promise<StoredSigningKey[]> {
      const now = deps.clock.now().getTime()
      const rows = await db.selectFrom('signing_key').selectAll().orderBy('created_at', 'desc').execute()
      return rows.filter((row) => isStillTrusted(row, now)).map(toStoredKey)
    },

    /** Generates the first key when there is no active one (a daemon's first start). */
    async ensureActiveKey(actor: Actor): Promise<void> {
      const active = await db.selectFrom('signing_key').select('kid').where('retired_at', 'is', null).executeTakeFirst()
      if (!active) await insertKey(actor, 'first start')
    },

    /** Makes a new active key and retires the current one (still trusted for one token lifetime). */
    async rotate(actor: Actor): Promise<SigningKeyInfo> {
      const key = await insertKey(actor, 'rotation')
      return {kid: key.kid, algorithm: key.algorithm, status: 'active', createdAt: key.createdAt.toISOString(), retiredAt: null, publishedUntil: null}
    },

    /** Every stored key, newest first, without private material. */
    async listKeys(): Promise<SigningKeyInfo[]> {
      const rows = await db.selectFrom('signing_key').select(['kid', 'algorithm', 'created_at', 'retired_at']).orderBy('created_at', 'desc').execute()
      return rows.map((row) => ({
        kid: row.kid,
        algorithm: row.algorithm,
        status: row.retired_at ? 'retired' : 'active',
        createdAt: row.created_at,
        retiredAt: row.retired_at,
        publishedUntil: row.retired_at ? new Date(Date.parse(row.retired_at) + trustWindowMilliseconds).toISOString() : null,
      }))
    },

    /** Deletes retired keys no token can need any more. */
    async purgeExpiredKeys(): Promise<number> {
      const cutoff = new Date(deps.clock.now().getTime() - trustWindowMilliseconds).toISOString()
      const result = await db.deleteFrom('signing_key').where('retired_at', 'is not', null).where('retired_at', '<=', cutoff).executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }
}

function toStoredKey(row: SigningKeyRow): StoredSigningKey {
  return {
    kid: row.kid,
    algorithm: 'ES256',
    publicJwk: JSON.parse(row.public_jwk),
    privateJwk: JSON.parse(row.private_jwk),
    createdAt: new Date(row.created_at),
    retiredAt: row.retired_at ? new Date(row.retired_at) : null,
  }
}
