import {userActor, type Actor} from '../../../src/access/principal.js'
import type {User} from '../../../src/identity/user-repo.js'
import type {Organization} from '../../../src/tenancy/org-repo.js'
import {OPERATOR, type TestCore} from '../../helpers/test-core.js'

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
export function createTenancyFixtures(t: () => TestCore) {
  let counter = 0

  async function newUser(prefix: string): Promise<User> {
    counter += 1
    const {user} = await t().core.users.createUser(OPERATOR, {email: `${prefix}-${counter}@example.com`, name: `${prefix} ${counter}`})
    return user
  }

  /** A user acting with a token bound to `orgId` (null: bound to none). */
  const actorOf = (user: User, orgId: string | null): Actor => userActor({userId: user.id, sessionId: 's', orgId}, {})

  /** An org whose first member named with role 'owner' is its owner; the others are added with their roles. */
  async function seedOrg(slug: string, roles: Record<string, string>): Promise<SeededOrg> {
    const users: Record<string, User> = {}
    for (const name of Object.keys(roles)) users[name] = await newUser(`${slug}-${name}`)
    const ownerName = Object.keys(roles).find((name) => roles[name] === 'owner')
    if (!ownerName) throw new Error('seedOrg needs an owner')
    const {org} = await t().core.orgs.createOrg(OPERATOR, {name: slug, slug, owner: users[ownerName]!.id})
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

  /** An API key row of `orgId` (null: a platform key) with a permission list, and its actor. */
  async function insertApiKey(orgId: string | null, permissions: string[]): Promise<Actor> {
    counter += 1
    const id = `00000000-0000-7000-8000-${String(counter).padStart(12, '0')}`
    await t()
      .core.database.db.insertInto('api_key')
      .values({id, org_id: orgId, name: `key-${counter}`, prefix: 'sk_test', secret_hash: `hash-${id}`, role_id: null, permissions: JSON.stringify(permissions), created_by_type: 'cli', created_by_id: null, created_at: t().clock.now().toISOString(), expires_at: null, last_used_at: null, revoked_at: null})
      .execute()
    return {principal: {kind: 'api_key', keyId: id, name: `key-${counter}`, orgId}, origin: {}}
  }

  /** How many rows of `table` point at the org. */
  async function countRows(table: 'membership' | 'role' | 'flag_override' | 'audit_event', orgId: string): Promise<number> {
    const rows = await t().core.database.db.selectFrom(table).select('org_id').where('org_id', '=', orgId).execute()
    return rows.length
  }

  return {newUser, actorOf, seedOrg, insertApiKey, countRows}
}
