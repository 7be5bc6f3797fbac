import type {Actor} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {SigningKeyRow} from '../db/database.js'
import {lockForTransaction} from '../db/dialect-helpers.js'
import {inTransaction} from '../db/transaction.js'
import {DomainError} from '../errors/domain-error.js'
import {isSealed, openSealedText, sealText} from '../security/encryption.js'
import type {SecretKeySource} from '../security/secret-key.js'
import {generateSigningKey, type EcPrivateJwk, type StoredSigningKey} from '../security/signing-keys.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'
import {appendRevocations} from './revocation-log.js'

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
 * expired. Private keys are read only by the daemon, never printed, and stored encrypted with the
 * deployment's secret key (AES-256-GCM, bound to the kid). Rows written in the clear by earlier
 * versions are still read, and encrypted in place when a daemon starts (ensureActiveKey).
 */
export function createSigningKeyStore(deps: ServiceDeps & {audit: AuditLog; accessTokenTtlSeconds: number; secretKey: SecretKeySource}) {
  const {db, audit, secretKey} = deps
  const trustWindowMilliseconds = deps.accessTokenTtlSeconds * 1000

  function isStillTrusted(row: SigningKeyRow, now: number): boolean {
    return row.retired_at === null || Date.parse(row.retired_at) + trustWindowMilliseconds > now
  }

  function toStoredKey(row: SigningKeyRow): StoredSigningKey {
    return {
      kid: row.kid,
      algorithm: 'ES256',
      publicJwk: JSON.parse(row.public_jwk),
      privateJwk: readPrivateJwk(row),
      createdAt: new Date(row.created_at),
      retiredAt: row.retired_at ? new Date(row.retired_at) : null,
    }
  }

  function readPrivateJwk(row: Pick<SigningKeyRow, 'kid' | 'private_jwk'>): EcPrivateJwk {
    if (!isSealed(row.private_jwk)) return JSON.parse(row.private_jwk)
    try {
      return JSON.parse(openSealedText(secretKey.get(), row.private_jwk, privateKeyContext(row.kid)))
    } catch (error) {
      if (error instanceof DomainError) throw error
      throw new DomainError('secret_key.invalid', `The private signing key ${row.kid} does not open with the configured secret_key (was it changed?)`)
    }
  }

  const sealPrivateJwk = (kid: string, jwk: EcPrivateJwk) => sealText(secretKey.get(), JSON.stringify(jwk), privateKeyContext(kid))

  /** Encrypts private keys an earlier version stored in the clear. */
  async function sealPlaintextKeys(): Promise<void> {
    const rows = await db.selectFrom('signing_key').select(['kid', 'private_jwk']).execute()
    for (const row of rows) {
      if (isSealed(row.private_jwk)) continue
      await db
        .updateTable('signing_key')
        .set({private_jwk: sealPrivateJwk(row.kid, JSON.parse(row.private_jwk))})
        .where('kid', '=', row.kid)
        .where('private_jwk', '=', row.private_jwk)
        .execute()
    }
  }

  async function insertKey(actor: Actor, reason: 'first start' | 'rotation'): Promise<StoredSigningKey> {
    const key = await generateSigningKey(deps.clock)
    const sealedPrivateJwk = sealPrivateJwk(key.kid, key.privateJwk)
    return inTransaction(db, async (tx) => {
      await lockForTransaction(tx, 'signingKeys')
      const now = nowIso(deps)
      const previouslyActive = await tx.selectFrom('signing_key').select('kid').where('retired_at', 'is', null).execute()
      if (reason === 'first start' && previouslyActive.length > 0) return key // another process got there first
      await tx.updateTable('signing_key').set({retired_at: now}).where('retired_at', 'is', null).execute()
      await insertActiveKey(tx, key, sealedPrivateJwk)
      await audit.append(tx, actor, {
        action: reason === 'rotation' ? 'key.rotated' : 'key.created',
        target: {type: 'signing_key', id: key.kid},
        metadata: {kid: key.kid, algorithm: key.algorithm, retired: previouslyActive.map((row) => row.kid)},
      })
      return key
    })
  }

  async function insertActiveKey(tx: typeof db, key: StoredSigningKey, sealedPrivateJwk: string): Promise<void> {
    await tx
      .insertInto('signing_key')
      .values({kid: key.kid, algorithm: key.algorithm, public_jwk: JSON.stringify(key.publicJwk), private_jwk: sealedPrivateJwk, created_at: key.createdAt.toISOString(), retired_at: null})
      .execute()
  }

  return {
    /**
     * Distrusts a (compromised) key at once: its row is deleted, and a 'key' entry in the
     * revocation log makes every daemon refuse what it signed, cached tokens included, within
     * one poll. Revoking the active key makes a new one active in the same transaction.
     * Raises key.not_found.
     */
    async revoke(actor: Actor, kid: string): Promise<{kid: string; wasActive: boolean; newActiveKid: string | null}> {
      const replacement = await generateSigningKey(deps.clock)
      return inTransaction(db, async (tx) => {
        await lockForTransaction(tx, 'signingKeys')
        const row = await tx.selectFrom('signing_key').select(['kid', 'retired_at']).where('kid', '=', kid).executeTakeFirst()
        if (!row) throw new DomainError('key.not_found', `No signing key ${kid}`, {kid})
        const now = nowIso(deps)
        const wasActive = row.retired_at === null
        await tx.deleteFrom('signing_key').where('kid', '=', kid).execute()
        if (wasActive) await insertActiveKey(tx, replacement, sealPrivateJwk(replacement.kid, replacement.privateJwk))
        // Every token the key signed expires within one token lifetime of now (a retired key signs nothing).
        await appendRevocations(tx, [{kind: 'key', subject: kid, reason: 'key revoked', createdAt: now, expiresAt: new Date(Date.parse(now) + trustWindowMilliseconds).toISOString()}])
        const newActiveKid = wasActive ? replacement.kid : null
        await audit.append(tx, actor, {action: 'key.revoked', target: {type: 'signing_key', id: kid}, metadata: {kid, was_active: wasActive, new_active_kid: newActiveKid}})
        return {kid, wasActive, newActiveKid}
      })
    },

    /** Keys that still sign or verify, for the daemon's key ring and the JWKS. */
    async loadTrustedKeys(): Promise<StoredSigningKey[]> {
      const now = deps.clock.now().getTime()
      const rows = await db.selectFrom('signing_key').selectAll().orderBy('created_at', 'desc').execute()
      return rows.filter((row) => isStillTrusted(row, now)).map(toStoredKey)
    },

    /** Generates the first key when there is no active one (a daemon's first start). */
    async ensureActiveKey(actor: Actor): Promise<void> {
      await sealPlaintextKeys()
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

/** Additional data of a sealed private key: it opens only in its own row (`doctor` checks it opens). */
export function privateKeyContext(kid: string): string {
  return `signing_key:${kid}`
}
