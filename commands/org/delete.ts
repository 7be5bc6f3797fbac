import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {confirmOrRefuse} from '../lib/confirm.js'

export default class OrgDelete extends BaseCommand<typeof OrgDelete> {
  static override summary = 'Delete an organization: soft by default, for good with --purge'
  static override description = 'A soft delete hides the organization and refuses changes to it until `org restore`. With --purge the organization and everything it owns (memberships, custom roles, flag overrides) are deleted for good; the audit log keeps its events.'
  static override args = {org: Args.string({description: 'Slug or id', required: true})}
  static override flags = {
    purge: Flags.boolean({description: 'Delete for good, with everything the organization owns'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation'}),
  }

  async run() {
    const core = await this.openCore()
    if (!this.flags.purge) {
      const org = await core.orgs.deleteOrg(this.actor(), {org: this.args.org})
      this.log(`Deleted organization ${org.slug} (restore with \`saas-ctl org restore ${org.slug}\`)`)
      return org
    }
    await confirmOrRefuse(`Purge organization "${this.args.org}" and everything it owns? This cannot be undone.`, this.flags.yes)
    const {org, removed} = await core.orgs.purgeOrg(this.actor(), {org: this.args.org})
    this.log(`Purged organization ${org.slug}: ${removed.memberships} membership(s), ${removed.customRoles} custom role(s), ${removed.flagOverrides} flag override(s)`)
    return {...org, purged: true, removed}
  }
}
