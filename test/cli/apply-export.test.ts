import {readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {parse} from 'yaml'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

const TENANTS = `
users:
  - {email: alice@acme.test, name: Alice}
  - {email: bob@acme.test}
flags:
  - {key: new-ui, default: false}
orgs:
  - slug: acme
    name: Acme
    tier: enterprise
    members:
      - {user: alice@acme.test, role: owner}
      - {user: bob@acme.test, role: member}
    flags: {new-ui: on}
    api_keys:
      - {name: ci, role: member}
`

// The real binary: what an operator's script sees (exit codes, stdout, the one stderr line).
describeEachDialect('CLI apply and export', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect))
    writeFileSync(path.join(cli.cwd, 'tenants.yaml'), TENANTS)
    writeFileSync(path.join(cli.cwd, 'bad.yaml'), 'orgs:\n  - slug: acme\n    name: Acme\n    members:\n      - {user: alice@acme.test, role: admn}\n')
    writeFileSync(path.join(cli.cwd, 'broken.yaml'), 'orgs:\n  - slug: acme\n   name: [x\n')
  })
  afterAll(async () => database?.drop())

  it('--dry-run prints the plan and its summary, exits 0 and changes nothing', async () => {
    const dry = await cli.run(['apply', '-f', 'tenants.yaml', '--dry-run'])
    expect(dry.exitCode).toBe(0)
    const lines = dry.stdout.trim().split('\n')
    expect(lines).toContain('+ org acme (name Acme, tier enterprise)')
    expect(lines).toContain('+ member acme/bob@acme.test (role member)')
    expect(lines.at(-1)).toBe('Plan: 8 to create, 0 to update, 0 to delete.')
    const json = await cli.run(['apply', '-f', 'tenants.yaml', '--dry-run', '--json'])
    expect(json.json).toMatchObject({dry_run: true, applied: false, summary: {create: 8, update: 0, delete: 0}})
    expect((await cli.run(['org', 'list', '--json'])).json).toEqual([])
  })

  it('a file with problems: one stderr line per problem then the count, exit 65, nothing written; a syntax error is one line', async () => {
    const bad = await cli.run(['apply', '-f', 'bad.yaml'])
    expect(bad.exitCode).toBe(65)
    expect(bad.stdout).toBe('')
    expect(bad.stderr.trim().split('\n')).toEqual([
      'bad.yaml:5:16: orgs[0].members[0].user: unknown user "alice@acme.test" (not in the file\'s users nor in the database)',
      'bad.yaml:5:39: orgs[0].members[0].role: unknown role "admn"',
      'saas-ctl: bad.yaml: 2 problems; nothing was written [provisioning.invalid]',
    ])
    const broken = await cli.run(['apply', '-f', 'broken.yaml'])
    expect(broken.exitCode).toBe(65)
    expect(broken.stderr.trim().split('\n')).toHaveLength(1)
    expect(broken.stderr).toMatch(/^saas-ctl: broken\.yaml:\d+:\d+: not valid YAML or JSON: .*; nothing was written \[provisioning\.invalid\]\n$/)
    const missing = await cli.run(['apply', '-f', 'missing.yaml'])
    expect(missing.exitCode).toBe(66)
    expect(missing.stderr).toBe('saas-ctl: missing.yaml: cannot read the file (ENOENT) [provisioning.file_unreadable]\n')
    expect((await cli.run(['org', 'list', '--json'])).json).toEqual([])
  })

  it('applies, shows a created key\'s secret once, then "No changes."; export prints the same state without secrets', async () => {
    const applied = await cli.run(['apply', '-f', 'tenants.yaml'])
    expect(applied.exitCode).toBe(0)
    expect(applied.stdout).toMatch(/^secret of apikey acme\/ci: sk_\S+$/m)
    expect(applied.stdout.trim().split('\n').at(-1)).toBe('Applied: 8 created, 0 updated, 0 deleted.')
    const again = await cli.run(['apply', '-f', 'tenants.yaml'])
    expect(again.exitCode).toBe(0)
    expect(again.stdout).toBe('No changes.\n')

    const exported = await cli.run(['export'])
    expect(exported.exitCode).toBe(0)
    expect(exported.stdout).not.toMatch(/sk_/)
    const document = parse(exported.stdout)
    expect(document).toEqual(parse(`
users:
  - {email: alice@acme.test, name: Alice}
  - {email: bob@acme.test}
flags:
  - {key: new-ui, default: false, rollout: null}
orgs:
  - slug: acme
    name: Acme
    tier: enterprise
    domain: null
    require_2fa: false
    limits: {seats: null, rpm: null}
    roles: []
    members:
      - {user: alice@acme.test, role: owner}
      - {user: bob@acme.test, role: member}
    flags: {new-ui: on}
    api_keys:
      - {name: ci, role: member}
`))
    writeFileSync(path.join(cli.cwd, 'exported.yaml'), exported.stdout)
    expect((await cli.run(['apply', '-f', 'exported.yaml'])).stdout).toBe('No changes.\n')
    // -o: the same document in a file only its owner reads.
    const toFile = await cli.run(['export', '-o', 'state.yaml'])
    expect(toFile.exitCode).toBe(0)
    expect(statSync(path.join(cli.cwd, 'state.yaml')).mode & 0o777).toBe(0o600)
    expect(readFileSync(path.join(cli.cwd, 'state.yaml'), 'utf8')).toBe(exported.stdout)
  })
})
