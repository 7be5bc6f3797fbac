import {createHash} from 'node:crypto'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// `saas-ctl apikey …` (commands run in-process): a few runs, the rules are tested in
// test/integration/api-keys.test.ts.
describeEachDialect('CLI apikey', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect, {inProcess: true}))
    expect((await cli.run(['org', 'create', '--name', 'Acme', '--slug', 'acme'])).exitCode).toBe(0)
  })
  afterAll(async () => database?.drop())

  it('creates a key printing the secret once, lists it without the secret, and revokes it only with --yes', async () => {
    const created = await cli.run(['apikey', 'create', 'acme', '--name', 'ci', '--permissions', 'org.read,flags.read', '--expires', '30d', '--json'])
    expect(created.exitCode, created.stderr).toBe(0)
    expect(created.json).toMatchObject({name: 'ci', role: null, permissions: ['flags.read', 'org.read'], status: 'active', created_by: {type: 'cli'}})
    const {secret, id} = created.json as {secret: string; id: string}
    expect(secret).toMatch(/^sk_[A-Za-z0-9_-]{43}$/)

    const list = await cli.run(['apikey', 'list', 'acme', '--json'])
    expect(list.exitCode).toBe(0)
    expect(list.json).toEqual([expect.objectContaining({id, name: 'ci', prefix: secret.slice(0, 10), last_used_at: null})])
    expect(list.stdout).not.toContain(secret.slice(10))
    expect(list.stdout).not.toContain(createHash('sha256').update(secret).digest('hex'))

    const unconfirmed = await cli.run(['apikey', 'revoke', id, '--json'])
    expect(unconfirmed.exitCode).toBe(64)
    expect(unconfirmed.json.error.code).toBe('confirmation.required')
    const revoked = await cli.run(['apikey', 'revoke', id, '--yes', '--json'])
    expect(revoked.exitCode, revoked.stderr).toBe(0)
    expect(revoked.json).toMatchObject({id, status: 'revoked'})
  })

  it('makes platform keys, shows the secret in human output, and refuses a role with a permission list', async () => {
    const created = await cli.run(['apikey', 'create', '--platform', '--name', 'provisioning'])
    expect(created.exitCode, created.stderr).toBe(0)
    expect(created.stdout).toMatch(/^secret: sk_[A-Za-z0-9_-]{43}$/m)

    const both = await cli.run(['apikey', 'create', 'acme', '--name', 'both', '--role', 'member', '--permissions', 'org.read'])
    expect(both.exitCode).toBe(64)
    const duplicate = await cli.run(['apikey', 'create', '--platform', '--name', 'provisioning', '--json'])
    expect(duplicate.exitCode).toBe(73)
    expect(duplicate.json.error.code).toBe('apikey.name_taken')
  })
})
