import {createHmac, hkdfSync, timingSafeEqual} from 'node:crypto'
import type {Kysely} from 'kysely'
import type {AuditCheckpointRow, Database} from '../db/database.js'
import {isDomainError} from '../errors/domain-error.js'
import type {SecretKeySource} from '../security/secret-key.js'
import {sharedQuery} from '../db/prepared-query.js'

/**
 * `head`: the newest event when it was written (a chain that ends before it, or holds another
 * event there, was cut). `pruned`: the last event retention deleted (the chain starts after it).
 */
export type CheckpointKind = AuditCheckpointRow['kind']

export interface ChainPoint {
  seq: number
  hash: string
}

/**
 * Signs and checks checkpoints with a key derived (HKDF-SHA256) from the deployment's secret
 * key, which lives outside the database: whoever holds only the database can neither forge a
 * checkpoint nor move one, only delete it or put back an older one they copied.
 */
export function createCheckpointSigner(secretKey: SecretKeySource) {
  let derived: {from: Buffer; key: Buffer} | null = null
  const keyOf = (): Buffer => {
    const secret = secretKey.get()
    if (derived?.from !== secret) derived = {from: secret, key: Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'saas-ctl audit checkpoint v1', 32))}
    return derived.key
  }
  // The MACs computed last: each append signs the new head and matches the stored one by the MAC
  // of the previous head, which the append before computed. A pure function of key and message,
  // so remembering it changes nothing but the time.
  let recent: {key: Buffer; message: string; mac: string}[] = []
  const macOf = (kind: CheckpointKind, point: ChainPoint): string => {
    const key = keyOf()
    const message = `audit_checkpoint:${kind}:${point.seq}:${point.hash}`
    const known = recent.find((entry) => entry.key === key && entry.message === message)
    if (known) return known.mac
    const mac = createHmac('sha256', key).update(message, 'utf8').digest('hex')
    recent = [{key, message, mac}, recent[0]].filter((entry) => entry !== undefined)
    return mac
  }
  return {
    /** Raises secret_key.required (Postgres without secret_key) for what cannot do without signing: verify, prune. */
    requireKey(): void {
      keyOf()
    },
    /**
     * Whether a key is there to sign with: false on Postgres without secret_key (where the
     * CLI's changes still work, unsigned until the next append that has the key); a configured
     * key that is not valid still raises.
     */
    hasKey(): boolean {
      try {
        keyOf()
        return true
      } catch (error) {
        if (isDomainError(error) && error.code === 'secret_key.required') return false
        throw error
      }
    },
    macOf,
    /** Whether a stored checkpoint carries the MAC of its own kind, seq and hash. */
    isAuthentic(row: Pick<AuditCheckpointRow, 'kind' | 'seq' | 'hash' | 'mac'>): boolean {
      const expected = Buffer.from(macOf(row.kind, {seq: Number(row.seq), hash: row.hash}), 'hex')
      const stored = /^[0-9a-f]{64}$/.test(row.mac) ? Buffer.from(row.mac, 'hex') : Buffer.alloc(0)
      return stored.length === expected.length && timingSafeEqual(stored, expected)
    },
  }
}

export type CheckpointSigner = ReturnType<typeof createCheckpointSigner>

export async function readCheckpoint(db: Kysely<Database>, kind: CheckpointKind): Promise<AuditCheckpointRow | null> {
  const row = await db.selectFrom('audit_checkpoint').selectAll().where('kind', '=', kind).executeTakeFirst()
  return row ? {...row, seq: Number(row.seq)} : null
}

/** Writes (or replaces) the checkpoint of a kind, signed. Inside the caller's transaction. */
export async function writeCheckpoint(trx: Kysely<Database>, signer: CheckpointSigner, kind: CheckpointKind, point: ChainPoint, createdAt: string): Promise<void> {
  const values = {seq: point.seq, hash: point.hash, mac: signer.macOf(kind, point), created_at: createdAt}
  await trx
    .insertInto('audit_checkpoint')
    .values({kind, ...values})
    .onConflict((oc) => oc.column('kind').doUpdateSet(values))
    .execute()
}

/**
 * Moves a checkpoint from `from` to `to` in one statement, only if the stored one is exactly the
 * signed checkpoint of `from` (seq, hash and its MAC — HMAC is deterministic, so the MAC of
 * `from` is known without reading the row). Never creates one: a missing checkpoint stays
 * missing (see advanceHeadCheckpoint). Returns whether it wrote; false leaves the stored
 * checkpoint as it is.
 */
export async function moveCheckpoint(trx: Kysely<Database>, signer: CheckpointSigner, kind: CheckpointKind, from: ChainPoint, to: ChainPoint, createdAt: string): Promise<boolean> {
  const fromMac = signer.macOf(kind, from)
  const result = await moveCheckpointQuery(trx, to.seq, to.hash, signer.macOf(kind, to), createdAt, kind, from.seq, from.hash, fromMac)
  return Number(result.numAffectedRows ?? 0) > 0
}

// Runs on every append: compiled once (sharedQuery), not rebuilt by Kysely each time.
const moveCheckpointQuery = sharedQuery(8, (db, toSeq: number, toHash: string, toMac: string, createdAt: string, kind: CheckpointKind, fromSeq: number, fromHash: string, fromMac: string) =>
  (db as Kysely<Database>)
    .updateTable('audit_checkpoint')
    .set({seq: toSeq, hash: toHash, mac: toMac, created_at: createdAt})
    .where('kind', '=', kind)
    .where('seq', '=', fromSeq)
    .where('hash', '=', fromHash)
    .where('mac', '=', fromMac),
)

/**
 * Writes the checkpoint of a kind only when there is none yet. For the head: only with the
 * first event of a fresh log (nothing before it, no pruned prefix), never later — a head that
 * went missing while events exist is not recreated by an append (`audit sign-head` does that).
 */
export async function writeFirstCheckpoint(trx: Kysely<Database>, signer: CheckpointSigner, kind: CheckpointKind, point: ChainPoint, createdAt: string): Promise<void> {
  await trx
    .insertInto('audit_checkpoint')
    .values({kind, seq: point.seq, hash: point.hash, mac: signer.macOf(kind, point), created_at: createdAt})
    .onConflict((oc) => oc.column('kind').doNothing())
    .execute()
}
