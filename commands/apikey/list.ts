import {Args, Flags} from '@oclif/core'
import {DomainError} from '../../src/errors/domain-error.js'
import {BaseCommand} from '../lib/base-command.js'
import {renderApiKeys} from './render.js'

export default class ApiKeyList extends BaseCommand<typeof ApiKeyList> {
  static override summary = 'List the API keys of an organization, or with --platform the platform keys'
  static override description = 'Revoked and expired keys are listed too. Secrets are never shown again, only their prefix.'
  static override args = {org: Args.string({description: 'Organization slug or id'})}
  static override flags = {platform: Flags.boolean({description: 'List the platform keys'})}

  async run() {
    const core = await this.openCore()
    const {org} = this.args
    if (this.flags.platform === Boolean(org)) throw new DomainError('validation.failed', 'Give the organization, or --platform')
    const keys = org ? await core.apiKeys.listApiKeys(this.actor(), {org}) : await core.apiKeys.listPlatformKeys(this.actor())
    this.log(renderApiKeys(keys))
    return keys
  }
}
