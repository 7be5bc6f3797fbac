import {afterAll, beforeAll, expect, it} from 'vitest'
import {createOrgFixtures} from '../helpers/org-fixtures.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

/**
 * An API key's name is shown to operators as the actor of everything the key does (audit tail,
 * the TUI's audit pane): like org, user and role names it may not hold control characters that
 * would drive their terminal.
 */
describeEachDialect('API key names refuse control characters', (dialect) => {
  let t: TestCore
  const fixtures = createOrgFixtures(() => t)
  beforeAll(async () => {
    t = await createTestCore(dialect)
  })
  afterAll(async () => t?.close())

  const HOSTILE = {
    backspaces: '\b\b\b\b\b\b\b\b\bcli:root',
    'OSC 0 (window title)': 'ci\u001B]0;PWNED\u0007',
    'OSC 52 (clipboard)': 'ci\u001B]52;c;ZWNobyBoaQ==\u0007',
    'SGR conceal': 'ci\u001B[8mhidden',
    'C1 CSI': 'ci\u009B2J',
    'bidi override': 'ci\u202Egnp.exe',
    'carriage return': 'ci\rcli:root',
  }

  it.each(Object.entries(HOSTILE))('an org key named with %s is refused (validation.failed), nothing written', async (_label, name) => {
    const seeded = await fixtures.seedOrg(`keys-${Object.keys(HOSTILE).indexOf(_label)}`, {ada: 'owner'})
    const before = await t.core.audit.latestSeq()
    const failure = await t.core.apiKeys.createApiKey(seeded.as('ada'), {org: seeded.org.id, name, role: 'admin'}).catch((error: unknown) => error)
    expect(failure).toMatchObject({code: 'validation.failed'})
    expect(String((failure as Error).message)).toMatch(/control characters/)
    expect(await t.core.apiKeys.listApiKeys(OPERATOR, {org: seeded.org.id})).toEqual([])
    expect(await t.core.audit.latestSeq()).toBe(before)
  })

  it('a platform key named with ESC is refused too; plain Unicode names are still taken', async () => {
    await expect(t.core.apiKeys.createPlatformKey(OPERATOR, {name: 'deploy\u001B[2J'})).rejects.toMatchObject({code: 'validation.failed'})
    const seeded = await fixtures.seedOrg('keys-unicode', {ada: 'owner'})
    const created = await t.core.apiKeys.createApiKey(seeded.as('ada'), {org: seeded.org.id, name: 'Zoë の CI ☕', role: 'admin'})
    expect(created.key.name).toBe('Zoë の CI ☕')
  })
})
