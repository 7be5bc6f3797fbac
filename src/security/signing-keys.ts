import type {Clock} from './clock.js'
import {loadJose} from './load-jose.js'

/** The only signature algorithm access tokens use: ECDSA over P-256 with SHA-256. */
export type SigningAlgorithm = 'ES256'
export const SIGNING_ALGORITHM: SigningAlgorithm = 'ES256'

// JWKs are type aliases, not interfaces, so they stay assignable to node:crypto's JsonWebKey.

/** A P-256 public key as a JWK: exactly the members RFC 7518 §6.2.1 defines, nothing else. */
export type EcPublicJwk = {
  readonly kty: 'EC'
  readonly crv: 'P-256'
  readonly x: string
  readonly y: string
}

/** A P-256 private key as a JWK: the public members plus the private scalar `d`. */
export type EcPrivateJwk = EcPublicJwk & {
  readonly d: string
}

/**
 * A signing key as stored. `kid` is the RFC 7638 SHA-256 thumbprint of `publicJwk`, so the
 * same key always has the same id and two keys never share one. A key with `retiredAt` set no
 * longer signs but still verifies the tokens it signed until it is removed.
 */
export interface StoredSigningKey {
  readonly kid: string
  readonly algorithm: SigningAlgorithm
  readonly publicJwk: EcPublicJwk
  readonly privateJwk: EcPrivateJwk
  readonly createdAt: Date
  readonly retiredAt: Date | null
}

/** What signing needs: the private half and its id. */
export type SigningKey = Pick<StoredSigningKey, 'kid' | 'algorithm' | 'privateJwk'>

/** What verifying needs: never the private half. */
export type VerificationKey = Pick<StoredSigningKey, 'kid' | 'algorithm' | 'publicJwk'>

/** One entry of a published JWKS. */
export type PublicJwk = EcPublicJwk & {
  readonly kid: string
  readonly alg: SigningAlgorithm
  readonly use: 'sig'
}

export interface PublicJwks {
  readonly keys: PublicJwk[]
}

/**
 * Generates a fresh ES256 key pair, created now according to `clock`, not yet retired.
 */
export async function generateSigningKey(clock: Clock): Promise<StoredSigningKey> {
  const {exportJWK, generateKeyPair} = await loadJose()
  const {privateKey, publicKey} = await generateKeyPair(SIGNING_ALGORITHM, {extractable: true})
  const exportedPublic = await exportJWK(publicKey)
  const exportedPrivate = await exportJWK(privateKey)
  const publicJwk = pickEcPublicMembers(exportedPublic)
  if (typeof exportedPrivate.d !== 'string') throw new Error('the generated private key has no "d" member')
  const privateJwk: EcPrivateJwk = {...pickEcPublicMembers(exportedPrivate), d: exportedPrivate.d}
  return {
    kid: await calculateKeyId(publicJwk),
    algorithm: SIGNING_ALGORITHM,
    publicJwk,
    privateJwk,
    createdAt: clock.now(),
    retiredAt: null,
  }
}

/** The RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key: its `kid`. */
export async function calculateKeyId(publicJwk: EcPublicJwk): Promise<string> {
  const members = pickEcPublicMembers(publicJwk)
  const {calculateJwkThumbprint} = await loadJose()
  return calculateJwkThumbprint(members, 'sha256')
}

/**
 * The JWKS document for `keys` (pass every key that may still verify a live token, retired
 * ones included). Each entry is rebuilt from an allow-list of public members, so private
 * material (`d`) cannot appear whatever the input objects carry.
 */
export function toPublicJwks(keys: readonly VerificationKey[]): PublicJwks {
  return {
    keys: keys.map((key) => ({
      ...pickEcPublicMembers(key.publicJwk),
      kid: key.kid,
      alg: key.algorithm,
      use: 'sig',
    })),
  }
}

/**
 * Copies only kty, crv, x and y, checking they describe a P-256 key. Throws TypeError
 * otherwise.
 */
export function pickEcPublicMembers(jwk: object): EcPublicJwk {
  const {kty, crv, x, y} = jwk as {readonly [member: string]: unknown}
  if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string') {
    throw new TypeError('expected a P-256 EC JWK with string "x" and "y"')
  }
  return {kty, crv, x, y}
}
