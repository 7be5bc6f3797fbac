import {createOrgFixtures} from '../../helpers/org-fixtures.js'
import {OPERATOR, type TestCore} from '../../helpers/test-core.js'

export type {SeededOrg} from '../../helpers/org-fixtures.js'

/** The org fixtures, plus what the access tests look at: role tables, revocations, signals. */
export function createAccessFixtures(t: () => TestCore) {
  const {newUser, seedOrg} = createOrgFixtures(t)

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
