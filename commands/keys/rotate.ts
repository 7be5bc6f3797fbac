import {KEY_RELOAD_INTERVAL_MS} from '../../src/identity/database-key-provider.js'
import {BaseCommand} from '../lib/base-command.js'

export default class KeysRotate extends BaseCommand<typeof KeysRotate> {
  static override summary = 'Make a new signing key active; the previous one stays published until its tokens expire'

  async run() {
    const core = await this.openCore()
    const key = await core.signingKeys.rotate(this.actor())
    this.log(`New active signing key ${key.kid}; running daemons sign with it within ${KEY_RELOAD_INTERVAL_MS / 1000} seconds`)
    return key
  }
}
