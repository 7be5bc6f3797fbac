import {userActor, type Actor} from '../../../src/access/principal.js'
import {createCore, type Core} from '../../../src/core.js'
import {createOrgFixtures} from '../../helpers/org-fixtures.js'
import {latestMail, tokenFromMail} from '../../helpers/outbox-mail.js'
import {FAST_PASSWORD_HASHER, OPERATOR, testConfig, type TestCore} from '../../helpers/test-core.js'

export const PASSWORD = 'correct horse battery staple'

/** Invitation helpers on a test core: invite and read the mailed token, make verified users, a second core. */
export function createInvitationFixtures(t: () => TestCore) {
  const fixtures = createOrgFixtures(t)
  let counter = 0
  const email = (label: string) => `${label}-${++counter}@invitee.example.com`

  return {
    ...fixtures,
    email,
    /** Invites as `actor` and returns the invitation with the token read from the mail it sent. */
    async invite(actor: Actor, org: string, address: string, role = 'member') {
      const issued = await t().core.invitations.invite(actor, {org, email: address, role})
      const token = tokenFromMail(await latestMail(t().core, address, 'invitation'))
      return {...issued, mailedToken: token}
    },
    /** A user whose address is verified, and an actor for them bound to no org. */
    async verifiedUser(address: string): Promise<{id: string; actor: Actor}> {
      const {user} = await t().core.users.createUser(OPERATOR, {email: address, name: address.split('@')[0], password: PASSWORD})
      await t().core.database.db.updateTable('user_account').set({email_verified_at: t().clock.now().toISOString()}).where('id', '=', user.id).execute()
      return {id: user.id, actor: userActor({userId: user.id, sessionId: 's', orgId: null, email: address}, {ip: '10.0.0.1'})}
    },
    /** Another core on the same database (another process, as far as the database can tell), with the first one's settings. */
    async secondCore(): Promise<Core> {
      const {failedAttemptsPerMinute, publicUrl, registration} = t().core.config
      return createCore({config: testConfig(t().database.url, {failedAttemptsPerMinute, publicUrl, registration}), cwd: process.cwd(), clock: t().clock, passwords: FAST_PASSWORD_HASHER})
    },
    async membersOf(org: string): Promise<string[]> {
      return (await t().core.members.listMembers(OPERATOR, {org})).items.map((member) => member.email).sort()
    },
  }
}

export const ORIGIN = {ip: '10.0.0.1', userAgent: 'vitest'}
