import {afterAll, afterEach, beforeAll, expect, it} from 'vitest'
import {createOrgFixtures} from '../helpers/org-fixtures.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {has, renderTui, type TuiDriver} from './tui-driver.js'

/** Anything but a line break that could drive a terminal: C0, DEL, C1, bidi embeddings/overrides/isolates. */
const TERMINAL_CONTROL = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/

/**
 * Tenant-controlled text written before names refused control characters (or by another
 * writer) reaches the operator's screen only as visible \uXXXX escapes: an API key's name as
 * the actor of the audit events it caused, an org's name in the Orgs pane.
 */
describeEachDialect('tui: control characters in stored names', (dialect) => {
  let t: TestCore
  let tui: TuiDriver | undefined
  const fixtures = createOrgFixtures(() => t)
  const KEY_NAME = 'ci\b\b\b\b\b\b\b\b\bcli:root\u001B]0;PWNED\u0007\u001B]52;c;ZWNobyBoaQ==\u0007\u001B[8mX\u009B2J\u202Eexe'
  const ORG_NAME = 'Legacy\u001B[2J\u001B[H\rOwned\b\u001B]0;T\u0007'
  beforeAll(async () => {
    t = await createTestCore(dialect)
    const seeded = await fixtures.seedOrg('legacy', {ada: 'owner'})
    const created = await t.core.apiKeys.createApiKey(seeded.as('ada'), {org: seeded.org.id, name: 'ci', role: 'admin'})
    // As an older version stored them (names now refuse control characters).
    await t.core.database.db.updateTable('api_key').set({name: KEY_NAME}).where('id', '=', created.key.id).execute()
    await t.core.database.db.updateTable('organization').set({name: ORG_NAME}).where('id', '=', seeded.org.id).execute()
    const principal = await t.core.apiKeys.authenticate(created.secret)
    await t.core.invitations.invite({principal, origin: {}}, {org: seeded.org.id, email: 'victim@example.com', role: 'member'})
  })
  afterEach(() => tui?.unmount())
  afterAll(async () => t?.close())

  it('an API key name with BS, OSC 0/52, SGR, C1 and bidi shows escaped in the audit pane; an org name with CSI/CR/BS in the Orgs pane', async () => {
    tui = renderTui(t.core, OPERATOR, {color: false})
    const orgs = await tui.waitFor(has('> legacy'), 'the org list')
    expect(orgs).toMatch(/> legacy\s+active\s+free\s+1\s+Legacy\\u001b\[2J/)
    const audit = await tui.press('5', (frame) => frame.includes('invitation.created'), 'the audit pane')
    const row = audit.split('\n').find((line) => line.includes('invitation.created'))!
    // Escaped, and cut at its column like any name: the org column still follows.
    expect(row).toMatch(/ api_key:ci\\u0008\\u000… legacy /)
    for (const frame of tui.frames()) expect(frame).not.toMatch(TERMINAL_CONTROL)
  })
})
