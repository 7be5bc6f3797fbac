import {Args, Flags} from '@oclif/core'
import type {OrgLimitsView} from '../../src/tenancy/org-limits-service.js'
import {BaseCommand} from '../lib/base-command.js'
import {renderRecord} from '../lib/render-table.js'

export default class OrgLimits extends BaseCommand<typeof OrgLimits> {
  static override summary = "Show or override an organization's seats and requests per minute"
  static override description =
    "Without flags, shows the limits that bind the organization, its tier's defaults, its overrides and the seats in use (members plus pending invitations). --seats and --rpm take a whole number or \"unlimited\"; --clear goes back to the tier's defaults (with --seats or --rpm, only the other one is cleared). An organization over a lowered seat limit keeps its members but cannot grow. Running daemons apply a new rpm within the rate limiter's cache time."
  static override examples = ['<%= config.bin %> org limits acme', '<%= config.bin %> org limits acme --seats 50 --rpm unlimited', '<%= config.bin %> org limits acme --clear']
  static override args = {org: Args.string({description: 'Organization slug or id', required: true})}
  static override flags = {
    seats: Flags.string({description: 'Seat limit: a whole number or "unlimited"'}),
    rpm: Flags.string({description: 'Requests per minute: a whole number or "unlimited"'}),
    clear: Flags.boolean({description: "Back to the tier's defaults"}),
  }

  async run() {
    const core = await this.openCore()
    const {seats, rpm, clear} = this.flags
    const changes = {seats: seats ?? (clear ? null : undefined), rpm: rpm ?? (clear ? null : undefined)}
    const isChange = changes.seats !== undefined || changes.rpm !== undefined
    const limits = isChange ? await core.orgLimits.setLimits(this.actor(), {org: this.args.org, ...changes}) : await core.orgLimits.showLimits(this.actor(), {org: this.args.org})
    if (isChange) this.log(`Updated the limits of ${limits.org}`)
    this.log(renderLimits(limits))
    return limits
  }
}

function renderLimits(limits: OrgLimitsView): string {
  const shown = (value: number | string | null, none: string) => (value === null ? none : String(value))
  return renderRecord([
    ['organization', limits.org],
    ['tier', limits.tier],
    ['seats', `${shown(limits.effective.seats, 'unlimited')} (tier ${shown(limits.tierDefaults.seats, 'unlimited')}, override ${shown(limits.overrides.seats, 'none')})`],
    ['seats used', `${limits.seatsUsed.total} (${limits.seatsUsed.members} members, ${limits.seatsUsed.pendingInvitations} pending invitations)`],
    ['requests/min', `${shown(limits.effective.rpm, 'unlimited')} (tier ${shown(limits.tierDefaults.rpm, 'unlimited')}, override ${shown(limits.overrides.rpm, 'none')})`],
  ])
}
