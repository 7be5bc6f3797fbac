import {userActor, type Actor} from '../../src/access/principal.js'
import type {User} from '../../src/identity/user-repo.js'
import type {Organization} from '../../src/tenancy/org-repo.js'
import {OPERATOR, type TestCore} from './test-core.js'

export interface SeededOrg {
  org: Organization
  /** The members by the names given to seedOrg. */
  users: Record<string, User>
  /** A member acting with a token bound to this org. */
  as(name: string): Actor
  /** A member acting with a token bound to another org (or to none). */
  boundTo(name: string, orgId: string | null): Actor
}

/** Users and organizations with members of given roles, made through the services as the operator. */
export function createOrgFixtures(t: () => TestCore) {
  let counter = 0

  async function newUser(prefix: string): Promise<User> {
    counter += 1
    const {user} = await t().core.users.createUser(OPERATOR, {email: `${prefix}-${counter}@example.com`, name: `${prefix} ${counter}`})
    return user
  }

  /** A user acting with a token bound to `orgId` (null: bound to none). */
  const actorOf = (user: User, orgId: string | null): Actor => userActor({userId: user.id, sessionId: 's', orgId}, {})

  /**
   * An org whose first member named with role 'owner' is its owner; the others are added with
   * their roles. `tier` (default free, 5 seats) for orgs with more members than that.
   */
  async function seedOrg(slug: string, roles: Record<string, string>, options: {tier?: 'free' | 'basic' | 'premium' | 'enterprise'} = {}): Promise<SeededOrg> {
    const users: Record<string, User> = {}
    for (const name of Object.keys(roles)) users[name] = await newUser(`${slug}-${name}`)
    const ownerName = Object.keys(roles).find((name) => roles[name] === 'owner')
    if (!ownerName) throw new Error('seedOrg needs an owner')
    const {org} = await t().core.orgs.createOrg(OPERATOR, {name: slug, slug, owner: users[ownerName]!.id, tier: options.tier})
    for (const [name, role] of Object.entries(roles)) {
      if (name !== ownerName) await t().core.members.addMember(OPERATOR, {org: org.id, user: users[name]!.id, role})
    }
    const boundTo = (name: string, orgId: string | null): Actor => {
      const user = users[name]
      if (!user) throw new Error(`no user ${name} in ${slug}`)
      return actorOf(user, orgId)
    }
    return {org, users, as: (name) => boundTo(name, org.id), boundTo}
  }

  return {newUser, actorOf, seedOrg, nextNumber: () => ++counter}
}
