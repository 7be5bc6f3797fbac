import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {DomainError} from '../errors/domain-error.js'
import {readFlags, readOrgs, readUsers, shownLimit, type CurrentOrg, type CurrentUser} from './current-state.js'
import type {StateDocument} from './desired-state-schema.js'

type OrgDocument = NonNullable<StateDocument['orgs']>[number]

/**
 * The current state in the format `apply -f` reads: every flag definition, the organizations
 * (all live ones, or those named), and the users who are members of them (all users when no
 * organization is named). Never a password hash or a key secret; revoked and expired keys are
 * left out (apply could not create them again). Raises org.not_found for a slug that names no
 * live organization.
 */
export async function exportState(db: Kysely<Database>, options: {orgs?: string[]; now: string}): Promise<StateDocument> {
  const slugs = options.orgs && options.orgs.length > 0 ? options.orgs.map((slug) => slug.trim().toLowerCase()) : null
  const orgs = await readOrgs(db, slugs, options.now)
  for (const slug of slugs ?? []) {
    const org = orgs.get(slug)
    if (!org || org.deleted) throw new DomainError('org.not_found', `No organization "${slug}"`)
  }
  const memberEmails = [...new Set([...orgs.values()].flatMap((org) => [...org.members.keys()]))]
  const emails = slugs === null ? (await db.selectFrom('user_account').select('email').execute()).map((row) => row.email) : memberEmails
  const users = [...(await readUsers(db, emails)).values()].sort((left, right) => byCodeUnits(left.email, right.email))
  const flags = [...(await readFlags(db)).values()].sort((left, right) => byCodeUnits(left.key, right.key))
  return {
    users: users.map(toUserDocument),
    flags: flags.map((flag) => ({
      key: flag.key,
      ...(flag.description === null ? {} : {description: flag.description}),
      default: flag.defaultEnabled,
      rollout: flag.rollout,
    })),
    orgs: [...orgs.values()].sort((left, right) => byCodeUnits(left.slug, right.slug)).map(toOrgDocument),
  }
}

/** A disabled user is written with disabled: true, so that applying the file keeps them disabled. */
function toUserDocument(user: CurrentUser): NonNullable<StateDocument['users']>[number] {
  return {email: user.email, ...(user.name === null ? {} : {name: user.name}), ...(user.disabled ? {disabled: true} : {})}
}

/** The same order on every dialect and locale (a database's collation may differ). */
function byCodeUnits(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0
}

function toOrgDocument(org: CurrentOrg): OrgDocument {
  const keys = [...org.apiKeys.values()].filter((key) => !key.isRevoked && !key.isExpired).sort((left, right) => byCodeUnits(left.name, right.name))
  return {
    slug: org.slug,
    name: org.name,
    tier: org.tier as OrgDocument['tier'],
    domain: org.domain,
    require_2fa: org.require2fa,
    limits: {seats: shownLimit(org.seatLimit), rpm: shownLimit(org.rpmLimit)},
    roles: [...org.roles.values()].sort((left, right) => byCodeUnits(left.key, right.key)).map((role) => ({key: role.key, name: role.name, level: role.level, permissions: role.permissions})),
    members: [...org.members].sort(([left], [right]) => byCodeUnits(left, right)).map(([user, {role}]) => ({user, role})),
    flags: Object.fromEntries([...org.overrides].sort(([left], [right]) => byCodeUnits(left, right))),
    api_keys: keys.map((key) => ({
      name: key.name,
      ...(key.role === null ? {permissions: key.permissions ?? []} : {role: key.role}),
      ...(key.expiresAt === null ? {} : {expires_at: key.expiresAt}),
    })),
  }
}
