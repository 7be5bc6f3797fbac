import type {Actor} from '../access/principal.js'
import type {Core} from '../core.js'
import {DomainError, isDomainError} from '../errors/domain-error.js'
import {chunksOf} from './current-state.js'
import {isOwnerAdd} from './plan-org.js'
import type {Change, Plan} from './plan-types.js'
import {createDeferredSignal, createServicesInTransaction, type TransactionServices} from './services-in-transaction.js'

/** A key's secret, shown once: only for keys whose organization's transaction committed. */
export interface CreatedSecret {
  org: string
  name: string
  prefix: string
  secret: string
}

export interface ApplyOutcome {
  /** Organizations whose changes committed (in file order). */
  appliedOrgs: string[]
  /** How many changes of users and flag definitions committed (they commit in chunks, before the organizations). */
  usersApplied: number
  /** How many users were disabled (after the organizations: a disabled user cannot be added). */
  usersDisabled: number
  secrets: CreatedSecret[]
  /** The error that stopped the apply: what it names was rolled back, and nothing after it ran. */
  failure: DomainError | Error | null
  /** What the failure rolled back, in words (a domain error's message starts with it already). */
  stoppedAt: string | null
}

/** Whether anything committed before the failure (the file was then applied in part). */
export function isPartiallyApplied(outcome: ApplyOutcome): boolean {
  return outcome.failure !== null && (outcome.usersApplied > 0 || outcome.usersDisabled > 0 || outcome.appliedOrgs.length > 0)
}

export interface ApplyOptions {
  actor: Actor
  /** Called after each organization (done of total). */
  onProgress?: (done: number, total: number) => void
}

/**
 * Users and flag definitions per transaction: each holds the audit chain's lock (and SQLite's
 * write lock) while it runs, so other writers wait at most one chunk, not the whole file.
 */
export const USERS_PER_TRANSACTION = 200

/**
 * Applies a plan through the core's services: first the users and flag definitions (members and
 * overrides refer to them) in transactions of USERS_PER_TRANSACTION, then one transaction per
 * organization, then the users the file disables (a disabled user cannot be added to an
 * organization). A failure rolls back the transaction it happens in and stops the apply: what
 * committed before stays (the plan, read again, then holds only the rest: applying the file
 * again finishes the work), nothing after it runs.
 */
export async function applyPlan(core: Core, plan: Plan, options: ApplyOptions): Promise<ApplyOutcome> {
  const global = plan.changes.filter((change) => change.org === null)
  const byOrg = new Map<string, Change[]>()
  for (const change of plan.changes) {
    if (change.org === null) continue
    const list = byOrg.get(change.org) ?? []
    list.push(change)
    byOrg.set(change.org, list)
  }
  const disables = global.filter(isDisable)
  const outcome: ApplyOutcome = {appliedOrgs: [], usersApplied: 0, usersDisabled: 0, secrets: [], failure: null, stoppedAt: null}
  // The users created here, by email: members name them by id then (the services look an id up in one query, an email in two).
  const userIds = new Map<string, string>()
  for (const chunk of chunksOf(global, USERS_PER_TRANSACTION)) {
    try {
      const ids = await inServiceTransaction(core, async (services) => {
        const created = new Map<string, string>()
        for (const change of chunk) await applyGlobalChange(services, options.actor, change, created)
        return created
      })
      for (const [email, id] of ids) userIds.set(email, id)
      outcome.usersApplied += chunk.length
    } catch (error) {
      const before = outcome.usersApplied > 0 ? `; ${outcome.usersApplied} before them committed` : ''
      ;[outcome.failure, outcome.stoppedAt] = describeFailure(error, `users and flags ${outcome.usersApplied + 1}–${outcome.usersApplied + chunk.length} of ${global.length} were not applied (rolled back${before}; no organization was applied)`)
      return outcome
    }
  }
  let done = 0
  for (const [slug, changes] of byOrg) {
    try {
      const secrets = await inServiceTransaction(core, async (services) => {
        const created: CreatedSecret[] = []
        // A new org's first owner is made by createOrg itself (as `org create --owner` does): one call fewer.
        const owner = changes.some((change) => change.kind === 'org' && change.action === 'create') ? changes.find(isOwnerAdd) : undefined
        for (const change of changes) {
          if (change === owner) continue
          await applyOrgChange(services, options.actor, slug, change, created, owner && (userIds.get(owner.name) ?? owner.name), userIds)
        }
        return created
      })
      outcome.secrets.push(...secrets)
      outcome.appliedOrgs.push(slug)
    } catch (error) {
      ;[outcome.failure, outcome.stoppedAt] = describeFailure(error, `organization "${slug}" was not applied (rolled back; ${outcome.appliedOrgs.length} organization(s) applied before it, none after)`)
      return outcome
    }
    options.onProgress?.(++done, byOrg.size)
  }
  for (const chunk of chunksOf(disables, USERS_PER_TRANSACTION)) {
    try {
      await inServiceTransaction(core, async (services) => {
        for (const change of chunk) await services.users.disableUser(options.actor, {user: change.name})
      })
      outcome.usersDisabled += chunk.length
    } catch (error) {
      ;[outcome.failure, outcome.stoppedAt] = describeFailure(error, `users to disable ${outcome.usersDisabled + 1}–${outcome.usersDisabled + chunk.length} of ${disables.length} were not disabled (rolled back; every organization was applied)`)
      return outcome
    }
  }
  return outcome
}

/** A user the file disables: disabled after the organizations. */
function isDisable(change: Change): boolean {
  if (change.kind !== 'user') return false
  return change.action === 'create' ? change.fields.disabled === true : change.changes.disabled?.to === true
}

async function inServiceTransaction<Result>(core: Core, work: (services: TransactionServices) => Promise<Result>): Promise<Result> {
  const signal = createDeferredSignal(core.revocationSignal)
  const result = await core.database.db.transaction().execute((tx) => work(createServicesInTransaction(core, tx, signal)))
  if (signal.isPending()) await core.revocationSignal.notify()
  return result
}

function describeFailure(error: unknown, what: string): [DomainError | Error, string] {
  if (isDomainError(error)) return [new DomainError(error.code, `${what}: ${error.message}`, error.details), what]
  return [error instanceof Error ? error : new Error(String(error)), what]
}

async function applyGlobalChange(services: TransactionServices, actor: Actor, change: Change, userIds: Map<string, string>): Promise<void> {
  if (change.kind === 'user') {
    if (change.action === 'create') {
      userIds.set(change.name, (await services.users.createUser(actor, {email: change.name, name: change.fields.name})).user.id)
      return
    }
    const {name, disabled} = change.changes
    if (name !== undefined) await services.users.updateUser(actor, {user: change.name, name: name.to})
    if (disabled?.to === false) await services.users.enableUser(actor, {user: change.name})
    return
  }
  if (change.kind !== 'flag') throw new Error(`${change.kind} ${change.name} is not a change of users or flags`)
  if (change.action === 'create') {
    const {description, default: enabled, rollout} = change.fields
    await services.flags.createFlag(actor, {key: change.name, description, defaultEnabled: enabled === 'on', rolloutPercentage: rollout})
    return
  }
  const {description, default: enabled, rollout} = change.changes
  await services.flags.setFlag(actor, {key: change.name, description: description?.to, defaultEnabled: enabled === undefined ? undefined : enabled.to === 'on', rolloutPercentage: rollout?.to})
}

async function applyOrgChange(services: TransactionServices, actor: Actor, org: string, change: Change, secrets: CreatedSecret[], owner: string | undefined, userIds: Map<string, string>): Promise<void> {
  switch (change.kind) {
    case 'org':
      if (change.action === 'create') {
        const {name, tier, domain, require_2fa: require2fa, seats, rpm} = change.fields
        await services.orgs.createOrg(actor, {name, slug: org, tier, owner})
        if (domain !== undefined || require2fa !== undefined) await services.orgs.updateOrg(actor, {org, domain, require2fa})
        if (seats !== undefined || rpm !== undefined) await services.orgLimits.setLimits(actor, {org, seats, rpm})
      } else {
        const {seats, rpm, name, tier, domain, require_2fa: require2fa} = change.changes
        if (name || tier || domain || require2fa) await services.orgs.updateOrg(actor, {org, name: name?.to, tier: tier?.to, domain: domain?.to, require2fa: require2fa?.to})
        if (seats !== undefined || rpm !== undefined) await services.orgLimits.setLimits(actor, {org, seats: seats?.to, rpm: rpm?.to})
      }
      return
    case 'role':
      if (change.action === 'create') await services.roles.createRole(actor, {org, key: change.name, ...change.fields})
      else if (change.action === 'update') await services.roles.updateRole(actor, {org, role: change.name, name: change.changes.name?.to, level: change.changes.level?.to, permissions: change.changes.permissions?.to})
      else await services.roles.deleteRole(actor, {org, role: change.name})
      return
    case 'member':
      if (change.action === 'create') await services.members.addMember(actor, {org, user: userIds.get(change.name) ?? change.name, role: change.fields.role})
      else if (change.action === 'update') await services.members.setMemberRole(actor, {org, user: change.name, role: change.changes.role.to})
      else await services.members.removeMember(actor, {org, user: change.name})
      return
    case 'flag_override':
      await services.flags.setOverride(actor, {key: change.name, org, value: change.action === 'create' ? change.fields.value : change.action === 'update' ? change.changes.value.to : 'clear'})
      return
    case 'apikey':
      if (change.action === 'create') {
        const {role, permissions, expires_at: expiresAt} = change.fields
        const created = await services.apiKeys.createApiKey(actor, {org, name: change.name, role, permissions, expiresAt})
        secrets.push({org, name: change.name, prefix: created.key.prefix, secret: created.secret})
      } else {
        await services.apiKeys.revokeApiKey(actor, {org, id: change.fields.id})
      }
      return
    default:
      throw new Error(`${change.kind} ${change.name} is not a change of an organization`)
  }
}
