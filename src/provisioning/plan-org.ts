import {BUILTIN_ROLES} from '../access/permission-catalog.js'
import {OWNER_ROLE_KEY} from '../access/role-repo.js'
import {effectiveOrgLimits, type TierTable} from '../tenancy/tiers.js'
import {shownLimit, storedLimit, type CurrentOrg, type CurrentState} from './current-state.js'
import type {DesiredOrg} from './desired-state-schema.js'
import type {Change, ChangeOfKind, CreateFields, UpdateFields} from './plan-types.js'
import type {PathSegment} from './provisioning-problems.js'

const BUILTIN_ROLE_KEYS = new Set(BUILTIN_ROLES.map((role) => role.key))

export interface OrgPlanContext {
  current: CurrentState
  /** Emails the file's users list names (they exist by the time members are added). */
  fileUsers: Set<string>
  /** Flag keys the file defines. */
  fileFlags: Set<string>
  /** Whether a user is disabled while the organizations are applied (a file's disabled: false enables first). */
  isDisabled: (email: string) => boolean
  prune: boolean
  tiers: TierTable
  now: string
  /** Records a problem at a path of the file (relative to the root). */
  report: (path: PathSegment[], message: string) => void
  warn: (message: string) => void
}

function sameList(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && [...left].sort().every((item, index) => item === [...right].sort()[index])
}

/** Reports duplicates of a key in a list (the second and later ones). */
function reportDuplicates<Item>(items: Item[], keyOf: (item: Item) => string, path: PathSegment[], field: string, what: string, context: OrgPlanContext): void {
  const seen = new Set<string>()
  items.forEach((item, index) => {
    const key = keyOf(item)
    if (seen.has(key)) context.report([...path, index, field], `duplicate ${what} "${key}"`)
    seen.add(key)
  })
}

/**
 * The changes that make one organization what the file says, in the order they must run (roles
 * before the members and keys that hold them; new owners and promotions to owner first, so an
 * owner always remains; then demotions and removals, which free seats, before the other adds;
 * revocations before the role deletes they free), and the problems of its references: roles,
 * users, permissions and flags that do not exist, an org left without an active owner, more
 * seats than the limit at any point of the apply.
 */
export function planOrg(desired: DesiredOrg, index: number, context: OrgPlanContext): Change[] {
  const path: PathSegment[] = ['orgs', index]
  const existing = context.current.orgs.get(desired.slug)
  if (existing?.deleted) {
    context.report([...path, 'slug'], `organization "${desired.slug}" is deleted; restore it with \`saas-ctl org restore ${desired.slug}\` first`)
    return []
  }
  const current: CurrentOrg | undefined = existing
  const slug = desired.slug
  const changes: Change[] = []
  const orgChange = planOrgFields(desired, current, path, context)
  if (orgChange) changes.push(orgChange)

  // Roles the members and keys may name: built-in, the file's, and (unless pruned) the org's others.
  reportDuplicates(desired.roles, (role) => role.key, [...path, 'roles'], 'key', 'role', context)
  const fileRoles = new Set(desired.roles.map((role) => role.key))
  const usableRoles = new Set([...BUILTIN_ROLE_KEYS, ...fileRoles, ...(context.prune ? [] : (current?.roles.keys() ?? []))])
  const roleChanges = planRoles(desired, current, path, context)
  desired.roles.forEach((role, roleIndex) => {
    if (BUILTIN_ROLE_KEYS.has(role.key)) context.report([...path, 'roles', roleIndex, 'key'], `"${role.key}" is a built-in role and cannot be defined`)
  })

  const memberChanges = planMembers(desired, current, path, usableRoles, context)
  const overrideChanges = planOverrides(desired, current, path, context)
  const keyChanges = planApiKeys(desired, current, path, usableRoles, context)
  changes.push(
    ...roleChanges.filter((change) => change.action !== 'delete'),
    ...memberChanges.filter(isOwnerAdd),
    ...memberChanges.filter((change) => change.action === 'update' && change.changes.role.to === OWNER_ROLE_KEY),
    ...memberChanges.filter((change) => change.action === 'update' && change.changes.role.to !== OWNER_ROLE_KEY),
    ...memberChanges.filter((change) => change.action === 'delete'),
    ...memberChanges.filter((change) => change.action === 'create' && !isOwnerAdd(change)),
    ...keyChanges.filter((change) => change.action === 'delete'),
    ...keyChanges.filter((change) => change.action === 'create'),
    ...roleChanges.filter((change) => change.action === 'delete'),
    ...overrideChanges,
  )
  return changes.map((change) => ({...change, org: slug}))
}

function planOrgFields(desired: DesiredOrg, current: CurrentOrg | undefined, path: PathSegment[], context: OrgPlanContext): Change | null {
  const holder = desired.domain ? context.current.domains.get(desired.domain) : undefined
  if (desired.domain && holder !== undefined && holder !== desired.slug) context.report([...path, 'domain'], `the domain "${desired.domain}" already names organization "${holder}"`)
  const seats = desired.limits?.seats
  const rpm = desired.limits?.rpm
  if (!current) {
    const fields: CreateFields<'org'> = {name: desired.name, tier: desired.tier ?? 'free'}
    if (desired.domain) fields.domain = desired.domain
    if (desired.require_2fa) fields.require_2fa = true
    if (seats !== undefined && seats !== null) fields.seats = seats
    if (rpm !== undefined && rpm !== null) fields.rpm = rpm
    return {action: 'create', kind: 'org', org: desired.slug, name: desired.slug, fields}
  }
  const changes: UpdateFields<'org'> = {}
  if (desired.name !== current.name) changes.name = {from: current.name, to: desired.name}
  if (desired.tier !== undefined && desired.tier !== current.tier) changes.tier = {from: current.tier, to: desired.tier}
  if (desired.domain !== undefined && desired.domain !== current.domain) changes.domain = {from: current.domain, to: desired.domain}
  if (desired.require_2fa !== undefined && desired.require_2fa !== current.require2fa) changes.require_2fa = {from: current.require2fa, to: desired.require_2fa}
  if (seats !== undefined && seats !== shownLimit(current.seatLimit)) changes.seats = {from: shownLimit(current.seatLimit), to: seats}
  if (rpm !== undefined && rpm !== shownLimit(current.rpmLimit)) changes.rpm = {from: shownLimit(current.rpmLimit), to: rpm}
  return Object.keys(changes).length === 0 ? null : {action: 'update', kind: 'org', org: desired.slug, name: desired.slug, changes}
}

function planRoles(desired: DesiredOrg, current: CurrentOrg | undefined, path: PathSegment[], context: OrgPlanContext): ChangeOfKind<'role'>[] {
  const changes: ChangeOfKind<'role'>[] = []
  desired.roles.forEach((role, roleIndex) => {
    const unknown = role.permissions.filter((permission) => !context.current.permissions.has(permission))
    if (unknown.length > 0) context.report([...path, 'roles', roleIndex, 'permissions'], `unknown permission(s) ${unknown.map((key) => `"${key}"`).join(', ')}`)
    const existing = current?.roles.get(role.key)
    if (!existing) {
      changes.push({action: 'create', kind: 'role', org: null, name: role.key, fields: {name: role.name ?? role.key, level: role.level ?? 1, permissions: role.permissions}})
      return
    }
    const fieldChanges: UpdateFields<'role'> = {}
    if (role.name !== undefined && role.name !== existing.name) fieldChanges.name = {from: existing.name, to: role.name}
    if (role.level !== undefined && role.level !== existing.level) fieldChanges.level = {from: existing.level, to: role.level}
    if (!sameList(role.permissions, existing.permissions)) fieldChanges.permissions = {from: existing.permissions, to: role.permissions}
    if (Object.keys(fieldChanges).length > 0) changes.push({action: 'update', kind: 'role', org: null, name: role.key, changes: fieldChanges})
  })
  if (context.prune && current) {
    const named = new Set(desired.roles.map((role) => role.key))
    for (const role of current.roles.values()) if (!named.has(role.key)) changes.push({action: 'delete', kind: 'role', org: null, name: role.key, fields: {}})
  }
  return changes
}

/** A member added as owner: applied before the demotions and removals (an owner must always remain). */
export function isOwnerAdd(change: Change): boolean {
  return change.kind === 'member' && change.action === 'create' && change.fields.role === OWNER_ROLE_KEY
}

function planMembers(desired: DesiredOrg, current: CurrentOrg | undefined, path: PathSegment[], usableRoles: Set<string>, context: OrgPlanContext): ChangeOfKind<'member'>[] {
  reportDuplicates(desired.members, (member) => member.user, [...path, 'members'], 'user', 'member', context)
  const changes: ChangeOfKind<'member'>[] = []
  // email → role once applied
  const final = new Map<string, string>(context.prune ? [] : [...(current?.members ?? [])].map(([email, member]) => [email, member.role]))
  let added = 0
  let ownersAdded = 0
  let removesOwner = false
  desired.members.forEach((member, memberIndex) => {
    const memberPath = [...path, 'members', memberIndex]
    const user = context.current.users.get(member.user)
    if (!user && !context.fileUsers.has(member.user)) context.report([...memberPath, 'user'], `unknown user "${member.user}" (not in the file's users nor in the database)`)
    if (!usableRoles.has(member.role)) context.report([...memberPath, 'role'], `unknown role "${member.role}"`)
    final.set(member.user, member.role)
    const role = current?.members.get(member.user)?.role
    if (role === undefined) {
      if (user && context.isDisabled(member.user)) context.report([...memberPath, 'user'], `user "${member.user}" is disabled and cannot be added`)
      added++
      if (member.role === OWNER_ROLE_KEY) ownersAdded++
      changes.push({action: 'create', kind: 'member', org: null, name: member.user, fields: {role: member.role}})
    } else if (role !== member.role) {
      if (role === OWNER_ROLE_KEY) removesOwner = true
      changes.push({action: 'update', kind: 'member', org: null, name: member.user, changes: {role: {from: role, to: member.role}}})
    }
  })
  if (context.prune && current) {
    const named = new Set(desired.members.map((member) => member.user))
    for (const [email, {role}] of current.members) {
      if (named.has(email)) continue
      if (role === OWNER_ROLE_KEY) removesOwner = true
      changes.push({action: 'delete', kind: 'member', org: null, name: email, fields: {role}})
    }
  }
  // The member service's last-owner rule (hasAnotherOwner, src/access/membership-repo.ts): demoting or
  // removing an owner needs another owner who is not disabled. New owners and promotions run first,
  // so the rule holds at every step when it holds at the end.
  const hasActiveOwner = [...final].some(([email, role]) => role === OWNER_ROLE_KEY && !context.isDisabled(email))
  if (removesOwner && !hasActiveOwner) context.report([...path, 'members'], 'no active owner would remain: name at least one member who is not disabled with role owner')
  if (added > 0) planSeats(desired, current, path, context, {final: final.size, peak: Math.max(final.size, ownersAdded > 0 ? (current?.members.size ?? 0) + ownersAdded : 0)})
  return changes
}

/**
 * The seat rule of src/tenancy/seat-limit.ts (assertSeatAvailable, kind 'new'): members plus
 * pending invitations not yet expired (counted by its countSeats when the plan was read) must
 * stay within the effective limit after each add. The most seats the apply takes at once: the
 * end state, or the current members plus the new owners added before the removals.
 */
function planSeats(desired: DesiredOrg, current: CurrentOrg | undefined, path: PathSegment[], context: OrgPlanContext, members: {final: number; peak: number}): void {
  const seatLimit = effectiveOrgLimits(context.tiers, {
    tier: desired.tier ?? current?.tier ?? 'free',
    seat_limit: desired.limits?.seats === undefined ? (current?.seatLimit ?? null) : storedLimit(desired.limits.seats),
    rpm_limit: null,
  }).seats
  if (seatLimit === null) return
  const pending = context.current.seats.get(desired.slug)?.pendingInvitations ?? 0
  if (members.peak + pending <= seatLimit) return
  const invitations = pending > 0 ? ` and ${pending} pending invitation(s)` : ''
  const during = members.peak > members.final ? ` (while the new owners are added, before the removals: ${members.peak})` : ''
  context.report([...path, 'members'], `${members.final} members${invitations} exceed the organization's ${seatLimit} seats${during} (raise limits.seats or the tier)`)
}

function planOverrides(desired: DesiredOrg, current: CurrentOrg | undefined, path: PathSegment[], context: OrgPlanContext): ChangeOfKind<'flag_override'>[] {
  const changes: ChangeOfKind<'flag_override'>[] = []
  for (const [key, value] of Object.entries(desired.flags)) {
    if (!context.fileFlags.has(key) && !context.current.flags.has(key)) context.report([...path, 'flags', key], `unknown flag "${key}"`)
    const now = current?.overrides.get(key)
    if (now === undefined) changes.push({action: 'create', kind: 'flag_override', org: null, name: key, fields: {value}})
    else if (now !== value) changes.push({action: 'update', kind: 'flag_override', org: null, name: key, changes: {value: {from: now, to: value}}})
  }
  if (context.prune && current) {
    for (const [key, value] of current.overrides) if (!Object.hasOwn(desired.flags, key)) changes.push({action: 'delete', kind: 'flag_override', org: null, name: key, fields: {value}})
  }
  return changes
}

function planApiKeys(desired: DesiredOrg, current: CurrentOrg | undefined, path: PathSegment[], usableRoles: Set<string>, context: OrgPlanContext): ChangeOfKind<'apikey'>[] {
  reportDuplicates(desired.api_keys, (key) => key.name, [...path, 'api_keys'], 'name', 'API key', context)
  const changes: ChangeOfKind<'apikey'>[] = []
  desired.api_keys.forEach((key, keyIndex) => {
    const keyPath = [...path, 'api_keys', keyIndex]
    if (key.role !== undefined && !usableRoles.has(key.role)) context.report([...keyPath, 'role'], `unknown role "${key.role}"`)
    const unknown = (key.permissions ?? []).filter((permission) => !context.current.permissions.has(permission))
    if (unknown.length > 0) context.report([...keyPath, 'permissions'], `unknown permission(s) ${unknown.map((name) => `"${name}"`).join(', ')}`)
    const existing = current?.apiKeys.get(key.name)
    if (existing?.isRevoked) {
      context.report([...keyPath, 'name'], `the name "${key.name}" belongs to a revoked key of "${desired.slug}"; give the key another name`)
      return
    }
    if (existing) {
      // A kept key still holds its role as it is: --prune cannot delete that role (role.in_use).
      if (context.prune && existing.role !== null && !usableRoles.has(existing.role)) {
        context.report([...keyPath, 'name'], `the key holds role "${existing.role}", which --prune would delete; revoke the key or keep the role`)
      }
      const differs = (key.role ?? null) !== existing.role || !sameList(key.permissions ?? [], existing.permissions ?? []) || (key.expires_at !== undefined && key.expires_at !== existing.expiresAt)
      if (differs) context.warn(`apikey ${desired.slug}/${key.name} differs from the file; a key is never changed or re-created (revoke it and apply again)`)
      if (existing.isExpired) context.warn(`apikey ${desired.slug}/${key.name} has expired; it is not re-created (revoke it and apply again)`)
      return
    }
    if (key.expires_at !== undefined && key.expires_at <= context.now) context.report([...keyPath, 'expires_at'], 'must be in the future')
    const fields: CreateFields<'apikey'> = key.role === undefined ? {permissions: key.permissions} : {role: key.role}
    if (key.expires_at !== undefined) fields.expires_at = key.expires_at
    changes.push({action: 'create', kind: 'apikey', org: null, name: key.name, fields})
  })
  if (context.prune && current) {
    const named = new Set(desired.api_keys.map((key) => key.name))
    for (const key of current.apiKeys.values()) {
      if (!named.has(key.name) && !key.isRevoked) changes.push({action: 'delete', kind: 'apikey', org: null, name: key.name, fields: {id: key.id}})
    }
  }
  return changes
}
