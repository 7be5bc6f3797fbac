import type {PurgeHook} from '../shared/purge-hooks.js'
import {deleteSessionsOfUser} from './session-repo.js'

/** A deleted user's sessions with their refresh tokens (their revocations are logged before). */
export const sessionsPurgeHook: PurgeHook = {
  name: 'sessions',
  purgeUser: (tx, userId) => deleteSessionsOfUser(tx, userId),
}
