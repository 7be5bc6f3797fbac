import {Args} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'

export default class KeysRevoke extends BaseCommand<typeof KeysRevoke> {
  static override summary = 'Distrust a (compromised) signing key at once: every daemon refuses the tokens it signed within a revocation poll'
  static override description =
    'The key is deleted and a revocation-log entry makes every running daemon stop trusting it, cached tokens included, within revocation_poll_ms (well under 2 s by default). Revoking the active key makes a new key active. Users whose tokens it signed sign in again or refresh.'
  static override args = {
    kid: Args.string({description: 'The key id (kid), as `saas-ctl keys list` shows it; one starting with "-" goes after `--` (`keys revoke -- -Abc…`)', required: true}),
  }

  async run() {
    const core = await this.openCore()
    const result = await core.signingKeys.revoke(this.actor(), this.args.kid)
    const replaced = result.newActiveKid ? `; new active signing key ${result.newActiveKid}` : ''
    this.log(`Signing key ${result.kid} revoked: running daemons refuse its tokens within ${core.config.revocationPollMs} ms${replaced}`)
    return result
  }
}
