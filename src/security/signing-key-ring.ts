import type {SigningKeyProvider} from './access-tokens.js'
import type {SigningKey, StoredSigningKey, VerificationKey} from './signing-keys.js'

/**
 * An in-memory SigningKeyProvider over a set of stored keys, e.g. the daemon's copy of the
 * signing_key table. It signs with the newest key that is not retired and verifies with any
 * key it holds, retired or not: removing a key from the ring is what stops its tokens.
 */
export interface SigningKeyRing extends SigningKeyProvider {
  getSigningKey(): SigningKey
  findVerificationKey(kid: string): VerificationKey | null
  /** Swaps in a new set of keys (after a rotation, or a reload from the database). */
  replaceKeys(keys: readonly StoredSigningKey[]): void
  /** The keys held, newest first: what to publish as the JWKS. */
  listKeys(): readonly StoredSigningKey[]
}

export function createSigningKeyRing(keys: readonly StoredSigningKey[]): SigningKeyRing {
  let held = sortNewestFirst(keys)
  let byKid = indexByKid(held)

  return {
    getSigningKey() {
      const active = held.find((key) => key.retiredAt === null)
      if (active === undefined) throw new Error('no active signing key: generate one before issuing tokens')
      return active
    },
    findVerificationKey(kid) {
      return byKid.get(kid) ?? null
    },
    replaceKeys(next) {
      const sorted = sortNewestFirst(next)
      const index = indexByKid(sorted)
      held = sorted
      byKid = index
    },
    listKeys() {
      return held
    },
  }
}

function sortNewestFirst(keys: readonly StoredSigningKey[]): readonly StoredSigningKey[] {
  return Object.freeze([...keys].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()))
}

function indexByKid(keys: readonly StoredSigningKey[]): ReadonlyMap<string, StoredSigningKey> {
  const index = new Map<string, StoredSigningKey>()
  for (const key of keys) {
    if (index.has(key.kid)) throw new Error(`two signing keys share kid ${key.kid}`)
    index.set(key.kid, key)
  }
  return index
}
