import {existsSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {sql} from 'kysely'
import {parse} from 'yaml'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {parseDatabaseUrl} from '../../src/db/database-url.js'
import {openDatabase} from '../../src/db/open-database.js'
import {createCliDatabase, createCliRunner, type CliRunner} from '../helpers/run-cli.js'
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

/** A YAML syntax error (the indentation of `name`). */
const BROKEN_YAML = 'orgs:\n  - slug: acme\n   name: [x\n'

/** Writes each file (name → text) into the directory: the files a test's commands read. */
function writeFiles(directory: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(directory, name), text)
}

// The real binary: what an operator's script sees (exit codes, stdout, the one stderr line).
describeEachDialect('CLI apply and export', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect))
    writeFiles(cli.cwd, {
      'tenants.yaml': TENANTS,
      'bad.yaml': 'orgs:\n  - slug: acme\n    name: Acme\n    members:\n      - {user: alice@acme.test, role: admn}\n',
      'broken.yaml': BROKEN_YAML,
    })
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

/** Makes the database refuse to insert the organization "boom" (a trigger): a failure the plan cannot foresee. */
async function refuseOrgBoom(database: TestDatabase, cwd: string): Promise<void> {
  const opened = await openDatabase(parseDatabaseUrl(database.url, cwd))
  try {
    if (database.dialect === 'sqlite') {
      await sql`create trigger refuse_boom before insert on organization when new.slug = 'boom' begin select raise(abort, 'boom refused'); end`.execute(opened.db)
    } else {
      await sql`create function refuse_boom() returns trigger language plpgsql as $$ begin if new.slug = 'boom' then raise exception 'boom refused'; end if; return new; end $$`.execute(opened.db)
      await sql`create trigger refuse_boom before insert on organization for each row execute function refuse_boom()`.execute(opened.db)
    }
  } finally {
    await opened.close()
  }
}

describeEachDialect('CLI apply: a partial failure', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect))
    expect((await cli.run(['org', 'list'])).exitCode).toBe(0)
    await refuseOrgBoom(database, cli.cwd)
    writeFiles(cli.cwd, {
      'first.yaml': 'users: [{email: o@p.test}]\norgs:\n  - {slug: ok, name: OK, members: [{user: o@p.test, role: owner}], api_keys: [{name: ci, role: member}]}\n  - {slug: boom, name: Boom}\n',
      'second.yaml': 'orgs:\n  - {slug: ok-two, name: OK 2}\n  - {slug: boom, name: Boom}\n',
    })
  })
  afterAll(async () => database?.drop())

  it('--json: one result document with what committed, the secrets and the failure (any error), exit 75', async () => {
    const run = await cli.run(['apply', '-f', 'first.yaml', '--json'])
    expect(run.exitCode).toBe(75)
    expect(run.json).toMatchObject({
      applied: 'partial',
      applied_orgs: ['ok'],
      users_applied: 1,
      secrets: [{org: 'ok', name: 'ci', secret: expect.stringMatching(/^sk_/)}],
      failure: {code: 'internal.error', message: 'organization "boom" was not applied (rolled back; 1 organization(s) applied before it, none after): Internal error; rerun with --debug for details', details: null},
    })
    expect((await cli.run(['org', 'list', '--json'])).json).toMatchObject([{slug: 'ok'}])
    // Nothing committed this time (only "boom" is left to do): the error itself, with its own exit status.
    const again = await cli.run(['apply', '-f', 'first.yaml', '--json'])
    expect(again.exitCode).toBe(70)
    expect(again.json).toMatchObject({error: {code: 'internal.error'}})
  })

  it('text: names the organizations applied and says what committed, then one error line, exit 75', async () => {
    const run = await cli.run(['apply', '-f', 'second.yaml'])
    expect(run.exitCode).toBe(75)
    expect(run.stdout.trim().split('\n').at(-1)).toBe('Committed before the failure: 0 user and flag change(s); 1 organization(s): ok-two.')
    expect(run.stderr).toBe('saas-ctl: applied in part, then stopped: organization "boom" was not applied (rolled back; 1 organization(s) applied before it, none after): Internal error; rerun with --debug for details [internal.error]; apply the file again to finish [provisioning.partially_applied]\n')
  })
})

describeEachDialect('CLI apply --dry-run of a broken file', (dialect) => {
  it.runIf(dialect === 'sqlite')('refuses before opening the database: no database file is created', async () => {
    const cli = createCliRunner('fresh.db')
    writeFiles(cli.cwd, {'broken.yaml': BROKEN_YAML})
    const run = await cli.run(['apply', '-f', 'broken.yaml', '--dry-run'])
    expect(run.exitCode).toBe(65)
    expect(readdirSync(cli.cwd)).toEqual(['broken.yaml'])
    expect(existsSync(path.join(cli.cwd, 'fresh.db'))).toBe(false)
  })
})
