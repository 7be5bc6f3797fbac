import {availableParallelism} from 'node:os'
import {isWithinPasswordMaxLength, normalizePassword} from './password-policy.js'
import {createConcurrencyLimit} from './concurrency-limit.js'
import {generateOpaqueToken} from './secure-token.js'

/** Argon2id cost parameters. memoryCost is in KiB. */
export interface PasswordHashingParameters {
  readonly memoryCost: number
  readonly timeCost: number
  readonly parallelism: number
}

/** OWASP Password Storage Cheat Sheet, argon2id, first configuration (19 MiB, t=2, p=1). */
export const OWASP_ARGON2ID_PARAMETERS: PasswordHashingParameters = Object.freeze({
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
})

export interface PasswordVerification {
  /** The password matches the hash. */
  readonly ok: boolean
  /**
   * The password matched, but the hash was made with other parameters (or another argon2
   * variant) than the hasher's: store a fresh `hashPassword(plain)`. Never true when `ok` is
   * false, so a wrong password can never trigger a write.
   */
  readonly needsRehash: boolean
}

export interface PasswordHasher {
  readonly parameters: PasswordHashingParameters
  /**
   * Returns a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) with a fresh random salt.
   * Throws RangeError for a password longer than STORED_PASSWORD_MAX_LENGTH (1024); new
   * passwords go through the policy first (at most 256).
   */
  hashPassword(plain: string): Promise<string>
  /**
   * Checks `plain` against a stored hash. An account without a password (null), a stored
   * value that is not an argon2 hash at all (empty, a "no password" marker) and a candidate
   * longer than STORED_PASSWORD_MAX_LENGTH give `ok: false` after the same work as a wrong
   * password.
   * A value that looks like argon2 but cannot be parsed is corruption, and rejects.
   */
  verifyPassword(hash: string | null, plain: string): Promise<PasswordVerification>
  /**
   * Does the work of one verification against a dummy hash made with the current
   * parameters, and reports failure. Call it when the account does not exist, so an unknown
   * email costs as much time as a wrong password. The dummy hash is computed on first use
   * and reused; that first call costs one extra hash.
   */
  spendDummyVerification(plain: string): Promise<PasswordVerification>
}

// The native addon loads on the first hash, not with every command that never hashes a password.
let argon2Module: Promise<typeof import('argon2')> | undefined
function loadArgon2(): Promise<typeof import('argon2')> {
  argon2Module ??= import('argon2')
  return argon2Module
}

const FAILED: PasswordVerification = Object.freeze({ok: false, needsRehash: false})
const ARGON2_PREFIX = '$argon2'
const ARGON2ID_PREFIX = '$argon2id$'

/**
 * Creates an argon2id hasher. Defaults to OWASP_ARGON2ID_PARAMETERS; any parameter can be
 * overridden (tests use small ones). Hashing runs on the libuv threadpool, never blocking the
 * event loop. Passwords are NFKC-normalized before hashing and verifying.
 */
export function createPasswordHasher(options: Partial<PasswordHashingParameters> & {maxConcurrentHashes?: number} = {}): PasswordHasher {
  const parameters: PasswordHashingParameters = Object.freeze({
    memoryCost: options.memoryCost ?? OWASP_ARGON2ID_PARAMETERS.memoryCost,
    timeCost: options.timeCost ?? OWASP_ARGON2ID_PARAMETERS.timeCost,
    parallelism: options.parallelism ?? OWASP_ARGON2ID_PARAMETERS.parallelism,
  })
  assertValidParameters(parameters)

  let dummyHash: Promise<string> | undefined
  // Leave the event loop a core: by default one fewer concurrent hash than there are cores.
  const limit = createConcurrencyLimit(options.maxConcurrentHashes ?? Math.max(1, availableParallelism() - 1))

  async function hashNormalized(normalized: string): Promise<string> {
    const argon2 = await loadArgon2()
    return limit(() => argon2.hash(normalized, {type: argon2.argon2id, ...parameters}))
  }

  async function verifyNormalized(hash: string, normalized: string): Promise<boolean> {
    const argon2 = await loadArgon2()
    return limit(() => argon2.verify(hash, normalized))
  }

  function getDummyHash(): Promise<string> {
    if (dummyHash === undefined) {
      dummyHash = hashNormalized(generateOpaqueToken(32))
      // A failure must not be cached forever; the next call tries again.
      dummyHash.catch(() => {
        dummyHash = undefined
      })
    }
    return dummyHash
  }

  async function spendDummyVerification(plain: string): Promise<PasswordVerification> {
    const candidate = isWithinPasswordMaxLength(plain) ? normalizePassword(plain) : ''
    await verifyNormalized(await getDummyHash(), candidate)
    return FAILED
  }

  return {
    parameters,

    async hashPassword(plain) {
      if (!isWithinPasswordMaxLength(plain)) throw new RangeError('password exceeds the maximum length')
      return hashNormalized(normalizePassword(plain))
    },

    async verifyPassword(hash, plain) {
      if (hash === null || !hash.startsWith(ARGON2_PREFIX) || !isWithinPasswordMaxLength(plain)) {
        return spendDummyVerification(plain)
      }
      const ok = await verifyNormalized(hash, normalizePassword(plain))
      if (!ok) return FAILED
      const argon2 = await loadArgon2()
      const needsRehash = !hash.startsWith(ARGON2ID_PREFIX) || argon2.needsRehash(hash, parameters)
      return {ok: true, needsRehash}
    },

    spendDummyVerification,
  }
}

function assertValidParameters({memoryCost, timeCost, parallelism}: PasswordHashingParameters): void {
  for (const [name, value] of Object.entries({memoryCost, timeCost, parallelism})) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`argon2 ${name} must be a positive integer, got ${value}`)
    }
  }
  // argon2 itself requires at least 8 KiB per lane.
  if (memoryCost < 8 * parallelism) {
    throw new RangeError(`argon2 memoryCost must be at least 8 KiB per lane (${8 * parallelism})`)
  }
}
