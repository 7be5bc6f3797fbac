import {userActor, type Actor} from '../../../src/access/principal.js'
import type {User} from '../../../src/identity/user-repo.js'
import type {Organization} from '../../../src/tenancy/org-repo.js'
import {OPERATOR, type TestCore} from '../../helpers/test-core.js'

export interface SeededOrg {
  org: Organization
  /** The users of the org by the names given to seedOrg. */
  users: Record<string, User>
  /** A user acting with a token bound to this org. */
  as(name: string): Actor
  /** A user acting with a token bound to another org (or to none). */
  boundTo(name: string, orgId: string | null): Actor
}

/**
 * Organizations with members of given roles, built through the services as the operator.
 * The first member named with role 'owner' creates the org.
 */
export function createAccessFixtures(t: () => TestCore) {
  let counter = 0

  async function newUser(prefix: string): Promise<User> {
    counter += 1
    const {user} = await t().core.users.createUser(OPERATOR, {email: `${prefix}-${counter}@example.com`, name: `${prefix} ${counter}`})
    return user
  }

  async function seedOrg(slug: string, roles: Record<string, string>): Promise<SeededOrg> {
    const users: Record<string, User> = {}
    for (const name of Object.keys(roles)) users[name] = await newUser(`${slug}-${name}`)
    const [ownerName] = Object.entries(roles).find(([, role]) => role === 'owner') ?? []
    if (!ownerName) throw new Error('seedOrg needs an owner')
    const {org} = await t().core.orgs.createOrg(OPERATOR, {name: slug, slug, owner: users[ownerName]!.id})
    for (const [name, role] of Object.entries(roles)) {
      if (name !== ownerName) await t().core.members.addMember(OPERATOR, {org: org.id, user: users[name]!.id, role})
    }
    const boundTo = (name: string, orgId: string | null): Actor => {
      const user = users[name]
      if (!user) throw new Error(`no user ${name} in ${slug}`)
      return userActor({userId: user.id, sessionId: 's', orgId}, {})
    }
    return {org, users, as: (name) => boundTo(name, org.id), boundTo}
  }

  /** The members' roles by email, as the operator lists them. */
  async function roleTable(org: string): Promise<Record<string, string>> {
    const {items} = await t().core.members.listMembers(OPERATOR, {org})
    return Object.fromEntries(items.map((member) => [member.email, member.role]))
  }

  /** The 'membership' revocations written for the org, as `<user id>:<reason>`. */
  async function membershipRevocations(orgId: string): Promise<string[]> {
    const rows = await t().core.database.db.selectFrom('revocation').select(['subject', 'reason']).where('kind', '=', 'membership').where('subject', 'like', `${orgId}:%`).orderBy('seq').execute()
    return rows.map((row) => `${row.subject.slice(orgId.length + 1)}:${row.reason}`)
  }

  /** Counts the notifications of the revocation signal from now on. */
  function countSignals(): {count: () => number; stop: () => void} {
    let count = 0
    const stop = t().core.revocationSignal.subscribe(() => {
      count += 1
    })
    return {count: () => count, stop}
  }

  return {newUser, seedOrg, roleTable, membershipRevocations, countSignals}
}
