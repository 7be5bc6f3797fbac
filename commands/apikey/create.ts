import {Args, Flags} from '@oclif/core'
import {DomainError} from '../../src/errors/domain-error.js'
import {BaseCommand} from '../lib/base-command.js'
import {parsePermissionList} from '../role/parse.js'
import {renderApiKey} from './render.js'

export default class ApiKeyCreate extends BaseCommand<typeof ApiKeyCreate> {
  static override summary = 'Create an API key of an organization, or with --platform a platform key'
  static override description =
    'An organization key has a role (its level and permissions, as the role is now) or a list of permissions (it grants no roles); it acts on its own organization over HTTP with the same checks as a member. A platform key acts on every organization (provisioning scripts). The secret is printed once and stored only as a hash.'
  static override examples = [
    '<%= config.bin %> apikey create acme --name ci --role member',
    '<%= config.bin %> apikey create acme --name reporting --permissions audit.read,flags.read --expires 30d',
    '<%= config.bin %> apikey create --platform --name provisioning',
  ]
  static override args = {org: Args.string({description: 'Organization slug or id (not with --platform)'})}
  static override flags = {
    name: Flags.string({description: 'A name, unique in the organization', required: true}),
    role: Flags.string({description: 'The key’s role (built-in or custom)', exclusive: ['permissions']}),
    permissions: Flags.string({description: 'Comma-separated permission keys', exclusive: ['role']}),
    expires: Flags.string({description: 'Expiry: an ISO time, or a duration such as 30d, 12h, 2w'}),
    platform: Flags.boolean({description: 'A platform key, acting on every organization', exclusive: ['role', 'permissions']}),
  }

  async run() {
    const core = await this.openCore()
    const {org} = this.args
    if (this.flags.platform && org) throw new DomainError('validation.failed', 'A platform key belongs to no organization: leave out the org with --platform')
    if (!this.flags.platform && !org) throw new DomainError('validation.failed', 'Give the organization, or --platform for a platform key')
    const created = this.flags.platform
      ? await core.apiKeys.createPlatformKey(this.actor(), {name: this.flags.name, expiresAt: this.flags.expires})
      : await core.apiKeys.createApiKey(this.actor(), {org: org!, name: this.flags.name, role: this.flags.role, permissions: parsePermissionList(this.flags.permissions), expiresAt: this.flags.expires})
    this.log(created.key.isPlatform ? `Created platform key ${created.key.name}` : `Created API key ${created.key.name} of ${org}`)
    this.log(renderApiKey(created.key))
    this.log('')
    this.log(`secret: ${created.secret}`)
    this.log('Store it now: it is shown only this once.')
    return {...created.key, secret: created.secret}
  }
}
