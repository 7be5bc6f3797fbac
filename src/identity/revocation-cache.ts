import type {Clock} from '../security/clock.js'
import type {Revocation} from './revocation-log.js'
import {membershipSubject} from './session-revocation.js'

export type RevokedReason = 'token_revoked' | 'session_revoked' | 'user_revoked' | 'membership_revoked' | 'org_revoked'

/** The parts of an access token a revocation can name. */
export interface RevocableToken {
  jti: string
  sid: string
  sub: string
  /** Seconds since the epoch. */
  iat: number
  /** The organization the token is bound to, if any. */
  org?: string
}

export type RevocationCache = ReturnType<typeof createRevocationCache>

/**
 * The daemon's in-process blacklist: revoked token ids, revoked sessions, and per-user "not
 * before" times, each kept until the tokens it blocks have expired. Checking a token is a few
 * map lookups, so the hot path never touches the database.
 */
export function createRevocationCache(clock: Clock) {
  const revokedTokens = new Map<string, number>()
  const revokedSessions = new Map<string, number>()
  // Revoked signing keys by kid: a compromised key verifies nothing, cached tokens included.
  const revokedKeys = new Map<string, number>()
  // "Not before" times by subject: a user id, `<org id>:<user id>` (membership) or an org id.
  const userNotBefore = new Map<string, {notBeforeSeconds: number; expiresAt: number}>()
  const isBefore = (map: Map<string, {notBeforeSeconds: number}>, key: string, iat: number) => {
    const entry = map.get(key)
    return entry !== undefined && iat < entry.notBeforeSeconds
  }
  // Org-scoped entries compare in milliseconds (the jti is a UUIDv7 made from the issue time):
  // a demotion must void a token issued in the same second just before it, while the token the
  // member gets right after (a refresh with the new role) stays valid. No session is revoked
  // with them, so whole seconds (as for users) would leave that token alive.
  const orgScopedNotBefore = new Map<string, {notBeforeMs: number; expiresAt: number}>()

  return {
    apply(entries: readonly Revocation[]): void {
      for (const entry of entries) {
        const expiresAt = Date.parse(entry.expiresAt)
        if (entry.kind === 'token') revokedTokens.set(entry.subject, Math.max(expiresAt, revokedTokens.get(entry.subject) ?? 0))
        else if (entry.kind === 'key') revokedKeys.set(entry.subject, Math.max(expiresAt, revokedKeys.get(entry.subject) ?? 0))
        else if (entry.kind === 'session') revokedSessions.set(entry.subject, Math.max(expiresAt, revokedSessions.get(entry.subject) ?? 0))
        else if ((entry.kind === 'membership' || entry.kind === 'org') && entry.notBefore) {
          const key = `${entry.kind}:${entry.subject}`
          const current = orgScopedNotBefore.get(key)
          orgScopedNotBefore.set(key, {notBeforeMs: Math.max(Date.parse(entry.notBefore), current?.notBeforeMs ?? 0), expiresAt: Math.max(expiresAt, current?.expiresAt ?? 0)})
        } else if (entry.kind === 'user' && entry.notBefore) {
          // JWT iat has whole seconds, so a token issued in the same second as the revocation
          // passes this check: the tokens issued just before it are still refused, because every
          // session of the user is revoked with it; the ones issued just after (a new login,
          // the password change's own tokens) must work.
          const notBeforeSeconds = Math.floor(Date.parse(entry.notBefore) / 1000)
          const current = userNotBefore.get(entry.subject)
          userNotBefore.set(entry.subject, {
            notBeforeSeconds: Math.max(notBeforeSeconds, current?.notBeforeSeconds ?? 0),
            expiresAt: Math.max(expiresAt, current?.expiresAt ?? 0),
          })
        }
      }
    },

    /** Why the token is revoked, or null when nothing revokes it. */
    findRevocation(token: RevocableToken): RevokedReason | null {
      if (revokedTokens.has(token.jti)) return 'token_revoked'
      if (revokedSessions.has(token.sid)) return 'session_revoked'
      if (isBefore(userNotBefore, token.sub, token.iat)) return 'user_revoked'
      if (token.org !== undefined && orgScopedNotBefore.size > 0) {
        const issuedMs = issuedAtMs(token)
        const isBeforeEntry = (key: string) => issuedMs < (orgScopedNotBefore.get(key)?.notBeforeMs ?? Number.NEGATIVE_INFINITY)
        if (isBeforeEntry(`org:${token.org}`)) return 'org_revoked'
        if (isBeforeEntry(`membership:${membershipSubject(token.org, token.sub)}`)) return 'membership_revoked'
      }
      return null
    },

    /** Whether the signing key `kid` was revoked (`keys revoke`): nothing it signed is valid. */
    isKeyRevoked(kid: string): boolean {
      return revokedKeys.has(kid)
    },

    /** Drops entries whose tokens have all expired. */
    prune(): void {
      const now = clock.now().getTime()
      for (const [key, expiresAt] of revokedTokens) if (expiresAt <= now) revokedTokens.delete(key)
      for (const [key, expiresAt] of revokedSessions) if (expiresAt <= now) revokedSessions.delete(key)
      for (const [key, expiresAt] of revokedKeys) if (expiresAt <= now) revokedKeys.delete(key)
      for (const [key, entry] of userNotBefore) if (entry.expiresAt <= now) userNotBefore.delete(key)
      for (const [key, entry] of orgScopedNotBefore) if (entry.expiresAt <= now) orgScopedNotBefore.delete(key)
    },

    size(): number {
      return revokedTokens.size + revokedSessions.size + revokedKeys.size + userNotBefore.size + orgScopedNotBefore.size
    },
  }
}

/** When the token was issued, in milliseconds: from its UUIDv7 jti, else its whole-second iat. */
function issuedAtMs(token: RevocableToken): number {
  const hex = token.jti.replace(/-/g, '')
  if (/^[0-9a-f]{12}7/i.test(hex)) return Number.parseInt(hex.slice(0, 12), 16)
  return token.iat * 1000
}
