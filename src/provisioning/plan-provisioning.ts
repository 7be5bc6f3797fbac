import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {countSeats, type SeatUsage} from '../tenancy/seat-limit.js'
import type {TierTable} from '../tenancy/tiers.js'
import {readDomainHolders, readFlags, readOrgs, readPermissionCatalog, readUsers, type CurrentState} from './current-state.js'
import type {DesiredState} from './desired-state-schema.js'
import {planOrg, type OrgPlanContext} from './plan-org.js'
import {summarize, type Change, type Plan, type UpdateFields} from './plan-types.js'
import {formatPath, type PathSegment, type Problem} from './provisioning-problems.js'

export interface PlanOptions {
  /** Delete what the file does not name, within the organizations it names. */
  prune: boolean
  tiers: TierTable
  now: string
}

export interface PlanResult {
  plan: Plan
  /** Every problem of references found; a plan with problems is never applied. */
  problems: Problem[]
}

/**
 * Reads what the file names from the database, in a few queries; and, for each existing
 * organization the file adds members to, how its seats are taken (seat-limit.ts's countSeats:
 * the same count the member service checks).
 */
export async function readCurrentState(db: Kysely<Database>, desired: DesiredState, options: {now: string; tiers: TierTable}): Promise<CurrentState> {
  const emails = [...desired.users.map((user) => user.email), ...desired.orgs.flatMap((org) => org.members.map((member) => member.user))]
  const domains = desired.orgs.flatMap((org) => (org.domain ? [org.domain] : []))
  const orgs = await readOrgs(db, desired.orgs.map((org) => org.slug), options.now)
  const seats = new Map<string, SeatUsage>()
  for (const org of desired.orgs) {
    const existing = orgs.get(org.slug)
    if (existing && !existing.deleted && org.members.some((member) => !existing.members.has(member.user))) seats.set(org.slug, await countSeats(db, options.tiers, existing.row, options.now))
  }
  return {
    users: await readUsers(db, emails),
    flags: await readFlags(db),
    orgs,
    seats,
    domains: await readDomainHolders(db, domains),
    permissions: await readPermissionCatalog(db),
  }
}

/**
 * The changes that make the database what the file says, and every problem found on the way.
 * Pure over the current state: nothing here writes.
 */
export function planProvisioning(desired: DesiredState, current: CurrentState, options: PlanOptions, locate: (path: PathSegment[]) => {line: number; column: number} | undefined): PlanResult {
  const problems: Problem[] = []
  const warnings: string[] = []
  const report = (path: PathSegment[], message: string) => problems.push({path: formatPath(path), message, ...locate(path)})
  const changes: Change[] = []

  const seenEmails = new Set<string>()
  const enabledByFile = new Set<string>()
  desired.users.forEach((user, index) => {
    if (seenEmails.has(user.email)) report(['users', index, 'email'], `duplicate user "${user.email}"`)
    seenEmails.add(user.email)
    if (user.disabled === false) enabledByFile.add(user.email)
    const existing = current.users.get(user.email)
    if (!existing) {
      changes.push({action: 'create', kind: 'user', org: null, name: user.email, fields: user.disabled ? {name: user.name, disabled: true} : {name: user.name}})
      return
    }
    const userChanges: UpdateFields<'user'> = {}
    if (user.name !== undefined && user.name !== existing.name) userChanges.name = {from: existing.name, to: user.name}
    if (user.disabled !== undefined && user.disabled !== existing.disabled) userChanges.disabled = {from: existing.disabled, to: user.disabled}
    if (Object.keys(userChanges).length > 0) changes.push({action: 'update', kind: 'user', org: null, name: user.email, changes: userChanges})
  })

  const seenFlags = new Set<string>()
  desired.flags.forEach((flag, index) => {
    if (seenFlags.has(flag.key)) report(['flags', index, 'key'], `duplicate flag "${flag.key}"`)
    seenFlags.add(flag.key)
    const existing = current.flags.get(flag.key)
    if (!existing) {
      changes.push({action: 'create', kind: 'flag', org: null, name: flag.key, fields: {description: flag.description, default: flag.default ? 'on' : 'off', rollout: flag.rollout ?? null}})
      return
    }
    const flagChanges: UpdateFields<'flag'> = {}
    if (flag.description !== undefined && flag.description !== existing.description) flagChanges.description = {from: existing.description, to: flag.description}
    if (flag.default !== undefined && flag.default !== existing.defaultEnabled) flagChanges.default = {from: existing.defaultEnabled ? 'on' : 'off', to: flag.default ? 'on' : 'off'}
    if (flag.rollout !== undefined && flag.rollout !== existing.rollout) flagChanges.rollout = {from: existing.rollout, to: flag.rollout}
    if (Object.keys(flagChanges).length > 0) changes.push({action: 'update', kind: 'flag', org: null, name: flag.key, changes: flagChanges})
  })

  const context: OrgPlanContext = {
    current,
    fileUsers: seenEmails,
    fileFlags: seenFlags,
    // Users the file enables are enabled before the organizations, those it disables after them.
    isDisabled: (email) => !enabledByFile.has(email) && (current.users.get(email)?.disabled ?? false),
    prune: options.prune,
    tiers: options.tiers,
    now: options.now,
    report,
    warn: (message) => warnings.push(message),
  }
  const seenSlugs = new Set<string>()
  const seenDomains = new Map<string, string>()
  desired.orgs.forEach((org, index) => {
    if (seenSlugs.has(org.slug)) {
      report(['orgs', index, 'slug'], `duplicate organization "${org.slug}"`)
      return
    }
    seenSlugs.add(org.slug)
    if (org.domain) {
      const other = seenDomains.get(org.domain)
      if (other) report(['orgs', index, 'domain'], `the domain "${org.domain}" is also given to "${other}"`)
      seenDomains.set(org.domain, org.slug)
    }
    changes.push(...planOrg(org, index, context))
  })
  return {plan: {changes, warnings, summary: summarize(changes)}, problems}
}
