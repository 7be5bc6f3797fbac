import type {SigningKeyProvider} from '../security/access-tokens.js'
import type {Clock} from '../security/clock.js'
import {createSigningKeyRing} from '../security/signing-key-ring.js'
import {toPublicJwks, type PublicJwks} from '../security/signing-keys.js'
import type {RevocationCache} from './revocation-cache.js'
import type {SigningKeyStore} from './signing-key-store.js'

/** At most this often a reload for tokens naming a key this process has not seen. */
const UNKNOWN_KID_RELOAD_INTERVAL_MS = 200
/** Keys rotated by another process (the CLI) are picked up within this. */
export const KEY_RELOAD_INTERVAL_MS = 30_000

export type DatabaseKeyProvider = ReturnType<typeof createDatabaseKeyProvider>

/**
 * Signing keys read from the database on first use and on reload. A token signed with a key
 * another process rotated in triggers a reload, so daemons agree on keys without restarting.
 * A key the revocation log names (`keys revoke`) neither signs, verifies nor is published from
 * the moment this process follows that entry; revoking the active key made a new one, which a
 * reload picks up.
 */
export function createDatabaseKeyProvider(store: SigningKeyStore, clock: Clock, revocations: Pick<RevocationCache, 'isKeyRevoked'>) {
  const ring = createSigningKeyRing([])
  let loadedAt = 0
  let loading: Promise<void> | null = null

  function reload(): Promise<void> {
    loading ??= store
      .loadTrustedKeys()
      .then((keys) => {
        ring.replaceKeys(keys)
        loadedAt = clock.now().getTime()
      })
      .finally(() => {
        loading = null
      })
    return loading
  }

  /** Loads on first use, and again once the copy is older than KEY_RELOAD_INTERVAL_MS. */
  async function reloadWhenStale(): Promise<void> {
    if (loadedAt === 0 || clock.now().getTime() - loadedAt >= KEY_RELOAD_INTERVAL_MS) await reload()
  }

  const provider: SigningKeyProvider & {reload(): Promise<void>; publicJwks(): Promise<PublicJwks>} = {
    reload,
    async getSigningKey() {
      await reloadWhenStale()
      const key = ring.getSigningKey()
      if (!revocations.isKeyRevoked(key.kid)) return key
      await reload()
      const replacement = ring.getSigningKey()
      if (revocations.isKeyRevoked(replacement.kid)) throw new Error(`the active signing key ${replacement.kid} is revoked: run \`saas-ctl keys rotate\``)
      return replacement
    },
    async findVerificationKey(kid) {
      if (revocations.isKeyRevoked(kid)) return null
      await reloadWhenStale()
      const known = ring.findVerificationKey(kid)
      if (known || clock.now().getTime() - loadedAt < UNKNOWN_KID_RELOAD_INTERVAL_MS) return known
      await reload()
      return ring.findVerificationKey(kid)
    },
    /** The public half of every trusted key, as published at /.well-known/jwks.json. */
    async publicJwks() {
      await reloadWhenStale()
      return toPublicJwks(ring.listKeys().filter((key) => !revocations.isKeyRevoked(key.kid)))
    },
  }
  return provider
}
