import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'

/**
 * What a login needs of 2FA, and nothing more: whether the user has it on, and checking a
 * second factor. The TOTP service (src/identity/mfa/) provides it; the authentication service
 * consumes it, so the login flow does not know how codes are made.
 */
export interface SecondFactor {
  /** Whether the user has confirmed a TOTP credential (2FA is on). */
  isEnabled(db: Kysely<Database>, userId: string): Promise<boolean>
  /**
   * Checks a TOTP code (±1 time step; a step at or before the last one accepted is a replay and
   * refused) or a recovery code (consumed). Writes what it consumes through `tx`, which the
   * caller's transaction holds, under the user's row lock. Returns how the user proved it, or
   * null for a wrong, replayed or used code (the caller counts the failure).
   */
  verify(tx: Kysely<Database>, userId: string, proof: {code?: string; recoveryCode?: string}): Promise<'totp' | 'recovery' | null>
  /** How many of the user's recovery codes are unused (a login with one reports what is left). */
  countUnusedRecoveryCodes(db: Kysely<Database>, userId: string): Promise<number>
}
