import type {Clock} from '../security/clock.js'
import type {Revocation} from './revocation-log.js'

export type RevokedReason = 'token_revoked' | 'session_revoked' | 'user_revoked'

/** The parts of an access token a revocation can name. */
export interface RevocableToken {
  jti: string
  sid: string
  sub: string
  /** Seconds since the epoch. */
  iat: number
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
  const userNotBefore = new Map<string, {notBeforeSeconds: number; expiresAt: number}>()

  return {
    apply(entries: readonly Revocation[]): void {
      for (const entry of entries) {
        const expiresAt = Date.parse(entry.expiresAt)
        if (entry.kind === 'token') revokedTokens.set(entry.subject, Math.max(expiresAt, revokedTokens.get(entry.subject) ?? 0))
        else if (entry.kind === 'session') revokedSessions.set(entry.subject, Math.max(expiresAt, revokedSessions.get(entry.subject) ?? 0))
        else if (entry.kind === 'user' && entry.notBefore) {
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
      const user = userNotBefore.get(token.sub)
      if (user && token.iat < user.notBeforeSeconds) return 'user_revoked'
      return null
    },

    /** Drops entries whose tokens have all expired. */
    prune(): void {
      const now = clock.now().getTime()
      for (const [key, expiresAt] of revokedTokens) if (expiresAt <= now) revokedTokens.delete(key)
      for (const [key, expiresAt] of revokedSessions) if (expiresAt <= now) revokedSessions.delete(key)
      for (const [key, entry] of userNotBefore) if (entry.expiresAt <= now) userNotBefore.delete(key)
    },

    size(): number {
      return revokedTokens.size + revokedSessions.size + userNotBefore.size
    },
  }
}
