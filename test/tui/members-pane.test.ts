import {afterAll, afterEach, beforeAll, expect, it} from 'vitest'
import {createOrgFixtures} from '../helpers/org-fixtures.js'
import {latestMail} from '../helpers/outbox-mail.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {has, KEY, renderTuiOnOrg, type TuiDriver} from './tui-driver.js'

describeEachDialect('tui: the Members pane', (dialect) => {
  let t: TestCore
  let tui: TuiDriver | undefined
  const fixtures = createOrgFixtures(() => t)
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterEach(() => tui?.unmount())
  afterAll(async () => t?.close())

  /** The TUI with the cursor of the Orgs pane on `slug` (by search), showing its members. */
  async function openMembersOf(slug: string): Promise<TuiDriver> {
    const driver = await renderTuiOnOrg(t.core, OPERATOR, slug)
    tui = driver
    await driver.press(KEY.enter, (frame) => frame.includes('[2 Members]') && frame.includes(`${slug}: `), 'the members pane')
    return driver
  }

  it('invites an email with a role through the invitation service (invitation.created by the operator)', async () => {
    const seeded = await fixtures.seedOrg('inviting', {ada: 'owner'})
    const driver = await openMembersOf('inviting')
    await driver.press('i', has('Invite to inviting, email:'), 'the email prompt')
    await driver.press('new.person@example.com', has('new.person@example.com'), 'the typed email')
    await driver.press(KEY.enter, has('Role (owner, admin, member, viewer or custom): member'), 'the role prompt with its default')
    // The accept link is shown whole (wrapped over lines, never cut) until a key is pressed.
    const shown = await driver.press(KEY.enter, has('Accept link'), 'the accept link')
    const link = (await latestMail(t.core, 'new.person@example.com', 'invitation')).links[0]!
    expect(link.length).toBeGreaterThan(79)
    const body = shown.split('\n').slice(1, -3)
    const linkLines = body.slice(body.findIndex((line) => line.startsWith('Accept link')) + 1)
    expect(linkLines.map((line) => line.trimEnd()).join('').startsWith(link)).toBe(true)
    // That key only closes it (x would otherwise ask to revoke).
    await driver.press('x', (frame) => !frame.includes('Accept link') && frame.includes('Invited new.person@example.com as member') && /new\.person@example\.com\s+member\s+invited/.test(frame), 'the invitation listed')
    expect(driver.frame()).not.toContain('[y/N]')
    const invitations = await t.core.invitations.listInvitations(OPERATOR, {org: seeded.org.id})
    expect(invitations.map((invitation) => [invitation.email, invitation.role, invitation.status])).toEqual([['new.person@example.com', 'member', 'pending']])
    const events = await t.core.audit.listEvents({action: 'invitation.created', orgId: seeded.org.id}, 10)
    expect(events.map((event) => event.actor)).toMatchObject([{type: 'cli', name: 'test-operator'}])
  })

  it("changes a member's role; demoting the last owner shows member.last_owner in place and changes nothing", async () => {
    const seeded = await fixtures.seedOrg('roles-change', {ada: 'owner', bob: 'member'})
    const driver = await openMembersOf('roles-change')
    await driver.waitFor(has(seeded.users.bob!.email), 'the members')
    // The owner first (by join time): demoting them is refused.
    await driver.press('e', has(`New role of ${seeded.users.ada!.email} (now owner):`), 'the role prompt')
    await driver.press('viewer', has(': viewer'), 'the typed role')
    await driver.press(KEY.enter, has('[member.last_owner]'), 'the error in place')
    expect((await t.core.members.listMembers(OPERATOR, {org: seeded.org.id})).items.map((member) => member.role)).toEqual(['owner', 'member'])
    await driver.press(KEY.down, (frame) => new RegExp(`> ${seeded.users.bob!.email.replaceAll('.', '\\.')}`).test(frame), 'the cursor on bob')
    await driver.press('e', has(`New role of ${seeded.users.bob!.email} (now member):`), 'the role prompt')
    await driver.press('admin', has(': admin'), 'the typed role')
    await driver.press(KEY.enter, has(`${seeded.users.bob!.email} is now admin`), 'the change')
    const {items} = await t.core.members.listMembers(OPERATOR, {org: seeded.org.id})
    expect(items.map((member) => member.role)).toEqual(['owner', 'admin'])
    expect(await t.core.audit.listEvents({action: 'member.role_updated', orgId: seeded.org.id}, 10)).toHaveLength(1)
  })

  it('removes a member only after y, through the member service (member.removed)', async () => {
    const seeded = await fixtures.seedOrg('removing', {ada: 'owner', bob: 'member'})
    const driver = await openMembersOf('removing')
    await driver.waitFor(has(seeded.users.bob!.email), 'the members')
    await driver.press(KEY.down, has(`> ${seeded.users.bob!.email}`), 'the cursor on bob')
    await driver.press('x', has(`Remove ${seeded.users.bob!.email} from removing? [y/N]`), 'the confirmation')
    await driver.press(KEY.escape, has('Cancelled'), 'the cancellation')
    expect((await t.core.members.listMembers(OPERATOR, {org: seeded.org.id})).items).toHaveLength(2)
    await driver.press('x', has('[y/N]'), 'the confirmation again')
    await driver.press('y', (frame) => frame.includes(`Removed ${seeded.users.bob!.email} from removing`) && !frame.includes(`> ${seeded.users.bob!.email}`), 'the removal')
    expect((await t.core.members.listMembers(OPERATOR, {org: seeded.org.id})).items.map((member) => member.email)).toEqual([seeded.users.ada!.email])
    const events = await t.core.audit.listEvents({action: 'member.removed', orgId: seeded.org.id}, 10)
    expect(events.map((event) => [event.actor.type, event.actor.name])).toEqual([['cli', 'test-operator']])
  })
})
