import type {PurgeHook} from '../shared/purge-hooks.js'
import {deleteKnownDevicesOfUser} from './device-recognition.js'
import {deleteMfaLoginTokensOfUser} from './mfa-login-token.js'

/** A deleted user's known devices and pending 2FA logins (their lockout rows age out by the cleanup job). */
export const loginPurgeHook: PurgeHook = {
  name: 'loginState',
  async purgeUser(tx, userId) {
    return (await deleteKnownDevicesOfUser(tx, userId)) + (await deleteMfaLoginTokensOfUser(tx, userId))
  },
}
