import * as yaml from 'yaml'
import {expect, it} from 'vitest'
import {OPERATOR} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {ACME_FILE, apply, exportYaml, plan, twoEmptyCores} from './provisioning-fixtures.js'

describeEachDialect('provisioning: export and round trip', (dialect) => {
  const cores = twoEmptyCores(dialect)

  it('apply a file, export, apply the export on an empty database, export again: the same document', async () => {
    const {first, second} = cores
    await apply(first.core, ACME_FILE)
    // State made outside the file too: an org with a require_2fa flag and no members, a platform-less user.
    await first.core.orgs.createOrg(OPERATOR, {name: 'Loose', slug: 'loose', tier: 'basic'})
    await first.core.users.createUser(OPERATOR, {email: 'lonely@x.test', name: 'Lonely', password: 'a long and unusual passphrase 42'})
    const exported = await exportYaml(first.core)
    // Nothing secret leaves the database.
    expect(exported).not.toMatch(/sk_|argon2|password|secret/i)

    expect((await plan(first.core, exported)).plan.changes).toEqual([])
    const {outcome} = await apply(second.core, exported)
    expect(outcome.secrets.map((secret) => secret.name)).toEqual(['ci', 'reporting'])
    const again = await exportYaml(second.core)
    expect(again).toBe(exported)
    expect(yaml.parse(again)).toMatchObject({
      users: expect.arrayContaining([{email: 'lonely@x.test', name: 'Lonely'}]),
      orgs: expect.arrayContaining([expect.objectContaining({slug: 'loose', tier: 'basic', members: []})]),
    })
  })

  it('exports only the organizations named, with only their members as users', async () => {
    const {first} = cores
    const document = yaml.parse(await exportYaml(first.core, ['globex'])) as {users: {email: string}[]; orgs: {slug: string}[]; flags: {key: string}[]}
    expect(document.orgs.map((org) => org.slug)).toEqual(['globex'])
    expect(document.users.map((user) => user.email)).toEqual(['alice@acme.test', 'carol@acme.test'])
    expect(document.flags.map((flag) => flag.key)).toEqual(['new-ui'])
    await expect(exportYaml(first.core, ['nope'])).rejects.toMatchObject({code: 'org.not_found'})
  })
})
