import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {queuedMails} from '../../helpers/outbox-mail.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {createInvitationFixtures, ORIGIN, PASSWORD} from './invitation-fixtures.js'

const DAY = 86_400_000

// Seats are members plus pending invitations not yet expired; the free tier has 5 (tier_seats default).
describeEachDialect('seat limits', (dialect) => {
  let t: TestCore
  const f = createInvitationFixtures(() => t)
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  // The test harness may set its own request rates; seats keep the product's defaults.
  const freeRpm = () => t.core.tiers.requestsPerMinute.free
  const invitationCount = async (orgId: string) => Number((await t.core.database.db.selectFrom('invitation').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', orgId).executeTakeFirstOrThrow()).n)

  it('invites and direct adds count against the tier: the sixth seat of a free org is org.seat_limit, nothing written, operators included', async () => {
    const {org, as} = await f.seedOrg('seats-free', {owner: 'owner', admin: 'admin', member: 'member'})
    expect(org.tier).toBe('free')
    await f.invite(as('admin'), org.slug, f.email('a'), 'viewer')
    const outsider = await f.newUser('outsider')
    await t.core.members.addMember(OPERATOR, {org: org.slug, user: outsider.id, role: 'viewer'})
    const late = await f.newUser('late')
    const seq = await t.core.audit.latestSeq()
    const mails = (await queuedMails(t.core)).length
    const invitations = await invitationCount(org.id)
    await expect(t.core.invitations.invite(as('admin'), {org: org.slug, email: f.email('b'), role: 'viewer'})).rejects.toMatchObject({code: 'org.seat_limit', details: {limit: 5, members: 4, pending_invitations: 1}})
    await expect(t.core.invitations.invite(OPERATOR, {org: org.slug, email: f.email('b'), role: 'viewer'})).rejects.toMatchObject({code: 'org.seat_limit'})
    await expect(t.core.members.addMember(OPERATOR, {org: org.slug, user: late.id, role: 'viewer'})).rejects.toMatchObject({code: 'org.seat_limit'})
    expect(await t.core.audit.latestSeq()).toBe(seq)
    expect((await queuedMails(t.core)).length).toBe(mails)
    expect(await invitationCount(org.id)).toBe(invitations)
    expect((await t.core.members.listMembers(OPERATOR, {org: org.slug})).items).toHaveLength(4)
    const limits = await t.core.orgLimits.showLimits(as('member'), {org: org.slug})
    expect(limits).toEqual({org: org.slug, tier: 'free', effective: {seats: 5, rpm: freeRpm()}, tierDefaults: {seats: 5, rpm: freeRpm()}, overrides: {seats: null, rpm: null}, seatsUsed: {members: 4, pendingInvitations: 1, total: 5}})
  })

  it('an expired invitation frees its seat; revoking frees it too; accepting a pending one never needs another seat', async () => {
    const {org, as} = await f.seedOrg('seats-free2', {owner: 'owner', admin: 'admin', member: 'member', viewer: 'viewer'})
    const held = await f.invite(as('admin'), org.slug, f.email('held'), 'viewer')
    await expect(t.core.invitations.invite(as('admin'), {org: org.slug, email: f.email('x'), role: 'viewer'})).rejects.toMatchObject({code: 'org.seat_limit'})
    // Full (4 members + 1 pending of 5), yet the pending one is accepted: it holds its seat.
    expect(await t.core.invitations.acceptInvitation(ORIGIN, held.mailedToken, {name: 'Held', password: PASSWORD})).toMatchObject({role: 'viewer'})
    await t.core.members.removeMember(OPERATOR, {org: org.slug, user: held.invitation.email})
    const expiring = await f.invite(as('admin'), org.slug, f.email('exp'), 'viewer')
    await expect(t.core.invitations.invite(as('admin'), {org: org.slug, email: f.email('x'), role: 'viewer'})).rejects.toMatchObject({code: 'org.seat_limit'})
    t.clock.advance(7 * DAY)
    const next = await f.invite(as('admin'), org.slug, f.email('next'), 'viewer')
    // The expired one comes back with a resend only if a seat is free.
    await expect(t.core.invitations.resendInvitation(as('admin'), {org: org.slug, id: expiring.invitation.id})).rejects.toMatchObject({code: 'org.seat_limit'})
    await t.core.invitations.revokeInvitation(as('admin'), {org: org.slug, id: next.invitation.id})
    expect((await t.core.invitations.resendInvitation(as('admin'), {org: org.slug, id: expiring.invitation.id})).invitation.status).toBe('pending')
  })

  it("a direct add of someone with a live invitation takes the invitation's seat and uses it up", async () => {
    const {org, as} = await f.seedOrg('seats-takeover', {owner: 'owner', admin: 'admin', member: 'member', viewer: 'viewer'})
    const address = f.email('taken-over')
    const {invitation, mailedToken} = await f.invite(as('admin'), org.slug, address, 'viewer')
    const {user} = await t.core.users.createUser(OPERATOR, {email: address})
    // Full (4 members + 1 pending of 5), yet the add passes: the invitation held the seat.
    await t.core.members.addMember(OPERATOR, {org: org.slug, user: user.id, role: 'member'})
    expect(await t.core.database.db.selectFrom('invitation').select(['status', 'accepted_user_id']).where('id', '=', invitation.id).executeTakeFirstOrThrow()).toEqual({status: 'accepted', accepted_user_id: user.id})
    expect((await t.core.orgLimits.showLimits(OPERATOR, {org: org.slug})).seatsUsed).toEqual({members: 5, pendingInvitations: 0, total: 5})
    await expect(t.core.invitations.showInvitation(ORIGIN, mailedToken)).rejects.toMatchObject({code: 'auth.invalid_link_token'})
  })

  it('an org over a lowered limit keeps its members and pending invitations but cannot grow; accepts fill only what the members leave', async () => {
    const {org, as} = await f.seedOrg('seats-lowered', {owner: 'owner', admin: 'admin', member: 'member'})
    await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: 10})
    const first = await f.invite(as('admin'), org.slug, f.email('l1'), 'viewer')
    const second = await f.invite(as('admin'), org.slug, f.email('l2'), 'viewer')
    const seq = await t.core.audit.latestSeq()
    const lowered = await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: 2})
    expect(lowered).toMatchObject({effective: {seats: 2}, overrides: {seats: 2, rpm: null}, seatsUsed: {members: 3, pendingInvitations: 2, total: 5}})
    expect((await t.core.audit.listEventsAfter({afterSeq: seq})).map((event) => [event.action, event.metadata])).toEqual([['org.limits_updated', {from: {seats: 10, rpm: null}, to: {seats: 2, rpm: null}}]])
    expect((await t.core.members.listMembers(OPERATOR, {org: org.slug})).items).toHaveLength(3)
    await expect(t.core.invitations.invite(OPERATOR, {org: org.slug, email: f.email('l3'), role: 'viewer'})).rejects.toMatchObject({code: 'org.seat_limit'})
    await expect(t.core.invitations.acceptInvitation(ORIGIN, first.mailedToken, {name: 'L', password: PASSWORD})).rejects.toMatchObject({code: 'org.seat_limit'})
    // Still pending after the refusal (nothing written).
    expect((await t.core.invitations.listInvitations(OPERATOR, {org: org.slug})).map((item) => item.id)).toEqual([first.invitation.id, second.invitation.id])
    await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: 4})
    // 3 members of 4: one of the two pending invitations can still join, then the org is full.
    expect(await t.core.invitations.acceptInvitation(ORIGIN, second.mailedToken, {name: 'L2', password: PASSWORD})).toMatchObject({role: 'viewer'})
    await expect(t.core.invitations.acceptInvitation(ORIGIN, first.mailedToken, {name: 'L1', password: PASSWORD})).rejects.toMatchObject({code: 'org.seat_limit'})
  })

  it('N concurrent accepts (two cores) when one seat is left: exactly one joins', async () => {
    const {org, as} = await f.seedOrg('seats-race', {owner: 'owner', admin: 'admin'})
    await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: 20})
    const invited = []
    for (let index = 0; index < 6; index += 1) invited.push(await f.invite(as('admin'), org.slug, f.email(`race${index}`), 'viewer'))
    await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: 3})
    const second = await f.secondCore()
    try {
      const origin = {ip: '10.7.7.9'}
      const results = await Promise.allSettled(invited.map((item, index) => (index % 2 === 0 ? t.core : second).invitations.acceptInvitation(origin, item.mailedToken, {name: `R${index}`, password: PASSWORD})))
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      expect(results.filter((result) => result.status === 'rejected').map((result) => (result as PromiseRejectedResult).reason.code)).toEqual(Array(5).fill('org.seat_limit'))
    } finally {
      await second.close()
    }
    expect((await t.core.members.listMembers(OPERATOR, {org: org.slug})).items).toHaveLength(3)
  })

  it('concurrent invites and direct adds (two cores) for the last seat: exactly one gets it', async () => {
    const {org, as} = await f.seedOrg('seats-race2', {owner: 'owner', admin: 'admin', member: 'member', viewer: 'viewer'})
    const newcomer = await f.newUser('direct')
    const second = await f.secondCore()
    try {
      const results = await Promise.allSettled([
        t.core.invitations.invite(as('admin'), {org: org.slug, email: f.email('c1'), role: 'viewer'}),
        second.invitations.invite(as('owner'), {org: org.slug, email: f.email('c2'), role: 'viewer'}),
        t.core.members.addMember(OPERATOR, {org: org.slug, user: newcomer.id, role: 'viewer'}),
        second.invitations.invite(OPERATOR, {org: org.slug, email: f.email('c3'), role: 'viewer'}),
      ])
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      expect(results.filter((result) => result.status === 'rejected').map((result) => (result as PromiseRejectedResult).reason.code)).toEqual(Array(3).fill('org.seat_limit'))
    } finally {
      await second.close()
    }
    expect((await t.core.orgLimits.showLimits(OPERATOR, {org: org.slug})).seatsUsed.total).toBe(5)
  })

  describe('org limits', () => {
    it('only platform principals set overrides; unlimited and clearing back to the tier; validation', async () => {
      const {org, as} = await f.seedOrg('limits', {owner: 'owner', viewer: 'viewer'})
      await expect(t.core.orgLimits.setLimits(as('owner'), {org: org.slug, seats: 100})).rejects.toMatchObject({code: 'platform.required'})
      await expect(t.core.orgLimits.showLimits(f.actorOf(await f.newUser('nobody'), null), {org: org.slug})).rejects.toMatchObject({code: 'org.not_found'})
      expect(await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: 'unlimited', rpm: 50})).toMatchObject({effective: {seats: null, rpm: 50}, overrides: {seats: 'unlimited', rpm: 50}})
      for (let index = 0; index < 6; index += 1) await f.invite(OPERATOR, org.slug, f.email(`u${index}`), 'viewer')
      expect(await t.core.orgLimits.showLimits(as('viewer'), {org: org.slug})).toMatchObject({effective: {seats: null, rpm: 50}, seatsUsed: {total: 8}})
      expect(await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: null, rpm: null})).toMatchObject({effective: {seats: 5, rpm: freeRpm()}, overrides: {seats: null, rpm: null}})
      await expect(t.core.invitations.invite(OPERATOR, {org: org.slug, email: f.email('over'), role: 'viewer'})).rejects.toMatchObject({code: 'org.seat_limit'})
      await t.core.orgs.updateOrg(OPERATOR, {org: org.slug, tier: 'enterprise'})
      expect(await t.core.orgLimits.showLimits(OPERATOR, {org: org.slug})).toMatchObject({tier: 'enterprise', effective: {seats: null}})
      await expect(t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: -3})).rejects.toMatchObject({code: 'validation.failed'})
      await expect(t.core.orgLimits.setLimits(OPERATOR, {org: org.slug})).rejects.toMatchObject({code: 'validation.failed'})
      await expect(t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: 'lots'})).rejects.toMatchObject({code: 'validation.failed'})
    })

    it('a limit is a JSON integer, a string of digits (as the CLI gives it) or "unlimited": nothing else is read as a number (no "" → 0 lock-out, no "0x10" → 16)', async () => {
      const {org} = await f.seedOrg('limits-strict', {owner: 'owner'})
      await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, rpm: 50, seats: 20})
      const seq = await t.core.audit.latestSeq()
      for (const value of ['', ' ', false, true, [], [7], {}, '0x10', '1e3', '-1', ' 7', '7 ', '+7', '7.0', '12abc', 1.5, -1, 10_000_001, '10000001', 'Unlimited', Number.NaN]) {
        await expect(t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, rpm: value as never}), JSON.stringify(value)).rejects.toMatchObject({code: 'validation.failed'})
        await expect(t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, seats: value as never}), JSON.stringify(value)).rejects.toMatchObject({code: 'validation.failed'})
      }
      expect(await t.core.audit.latestSeq()).toBe(seq)
      expect(await t.core.orgLimits.showLimits(OPERATOR, {org: org.slug})).toMatchObject({overrides: {seats: 20, rpm: 50}})
      expect(await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, rpm: '42', seats: '007'})).toMatchObject({overrides: {seats: 7, rpm: 42}})
      expect(await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, rpm: 0, seats: '10000000'})).toMatchObject({overrides: {seats: 10_000_000, rpm: 0}})
      expect(await t.core.orgLimits.setLimits(OPERATOR, {org: org.slug, rpm: 'unlimited', seats: null})).toMatchObject({overrides: {seats: null, rpm: 'unlimited'}})
    })
  })
})
