import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, createCliDatabase, createCliRunner, type CliRunner} from '../helpers/run-cli.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// Acceptance items 1–3 and 7 of the foundation issue: the commands run in-process; the last
// tests run the real binary (exit statuses, the JSON error, --version, the README's first command).
describeEachDialect('CLI tenant provisioning', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect, {inProcess: true}))
  })
  afterAll(async () => database?.drop())

  async function auditActions(): Promise<string[]> {
    const result = await cli.run(['audit', 'tail', '-n', '1000', '--json'])
    expect(result.exitCode).toBe(0)
    return result.json.map((event: {action: string}) => event.action)
  }

  it('creates an org, refuses the same slug with the conflict code, and is idempotent with --if-not-exists', async () => {
    const created = await cli.run(['org', 'create', '--name', 'Acme Corp', '--slug', 'acme', '--json'])
    expect(created.exitCode).toBe(0)
    expect(created.json).toMatchObject({slug: 'acme', name: 'Acme Corp', tier: 'free'})
    expect(created.json.id).toEqual(expect.any(String))

    const list = await cli.run(['org', 'list', '--json'])
    expect(list.json.map((org: {id: string}) => org.id)).toContain(created.json.id)

    const again = await cli.run(['org', 'create', '--name', 'Acme Corp', '--slug', 'acme', '--json'])
    expect(again.exitCode).toBe(73)
    expect(again.json.error.code).toBe('org.slug_taken')
    expect(again.stderr.trim().split('\n')).toHaveLength(1)

    const idempotent = await cli.run(['org', 'create', '--name', 'Acme Corp', '--slug', 'acme', '--if-not-exists', '--json'])
    expect(idempotent.exitCode).toBe(0)
    expect(idempotent.json).toMatchObject({id: created.json.id, slug: 'acme', created: false})
  })

  it('protects the last owner: set-role and remove fail and the member list is unchanged', async () => {
    expect((await cli.run(['user', 'create', '--email', 'owner@acme.test', '--name', 'Olive'])).exitCode).toBe(0)
    expect((await cli.run(['member', 'add', 'acme', 'owner@acme.test', '--role', 'owner'])).exitCode).toBe(0)
    const before = await cli.run(['member', 'list', 'acme', '--json'])
    expect(before.json).toEqual([expect.objectContaining({email: 'owner@acme.test', role: 'owner'})])

    const demote = await cli.run(['member', 'set-role', 'acme', 'owner@acme.test', 'member', '--json'])
    expect(demote.exitCode).toBe(77)
    expect(demote.json.error.code).toBe('member.last_owner')
    const remove = await cli.run(['member', 'remove', 'acme', 'owner@acme.test'])
    expect(remove.exitCode).toBe(77)
    expect(remove.stderr).toContain('last owner')

    const after = await cli.run(['member', 'list', 'acme', '--json'])
    expect(after.json).toEqual(before.json)
  })

  it('creates, assigns and lists a custom role, and refuses unknown permissions', async () => {
    const role = await cli.run(['role', 'create', 'acme', '--key', 'support', '--name', 'Support', '--permissions', 'members.read,flags.read', '--json'])
    expect(role.exitCode).toBe(0)
    expect(role.json).toMatchObject({key: 'support', permissions: ['flags.read', 'members.read']})

    expect((await cli.run(['user', 'create', '--email', 'sam@acme.test'])).exitCode).toBe(0)
    expect((await cli.run(['member', 'add', 'acme', 'sam@acme.test', '--role', 'support'])).exitCode).toBe(0)
    const members = await cli.run(['member', 'list', 'acme', '--json'])
    expect(members.json).toContainEqual(expect.objectContaining({email: 'sam@acme.test', role: 'support'}))
    const roles = await cli.run(['role', 'list', 'acme', '--json'])
    expect(roles.json.map((listed: {key: string}) => listed.key)).toEqual(expect.arrayContaining(['owner', 'admin', 'member', 'viewer', 'support']))

    const actionsBefore = await auditActions()
    const bad = await cli.run(['role', 'create', 'acme', '--key', 'auditor', '--name', 'Auditor', '--permissions', 'audit.read,rockets.launch', '--json'])
    expect(bad.exitCode).toBe(65)
    expect(bad.json.error.code).toBe('permission.unknown')
    expect((await cli.run(['role', 'show', 'acme', 'auditor'])).exitCode).toBe(66)
    expect(await auditActions()).toEqual(actionsBefore)
  })

  it('records every mutation above in the audit log', async () => {
    expect(await auditActions()).toEqual(['org.created', 'user.created', 'member.added', 'role.created', 'user.created', 'member.added'])
  })

  it.each([
    ['an invalid slug', ['org', 'create', '--name', 'Bad', '--slug', '-Bad Slug-'], 65, 'validation.failed'],
    ['an invalid email', ['user', 'create', '--email', 'not-an-email'], 65, 'validation.failed'],
    ['an unknown org', ['member', 'list', 'no-such-org'], 66, 'org.not_found'],
    ['an unknown user', ['member', 'add', 'acme', 'nobody@acme.test', '--role', 'member'], 66, 'user.not_found'],
    ['an unknown role', ['member', 'set-role', 'acme', 'sam@acme.test', 'wizard'], 66, 'role.not_found'],
    ['a malformed --since', ['audit', 'tail', '--since', 'yesterday'], 65, 'validation.failed'],
    ['an unknown flag', ['org', 'list', '--colour'], 64, 'usage'],
  ])('rejects %s with one line, a non-zero exit, and no write', async (_case, args, exitCode, code) => {
    const actionsBefore = await auditActions()
    const result = await cli.run([...args, '--json'])
    expect(result.exitCode).toBe(exitCode)
    expect(result.json.error.code).toBe(code)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).not.toMatch(/\n\s+at /)
    expect(await auditActions()).toEqual(actionsBefore)
  })

  it('the real binary exits with the error\'s code and prints the JSON error document and one stderr line', async () => {
    const binary = createCliRunner(database.url)
    const actionsBefore = await auditActions()
    const taken = await binary.run(['org', 'create', '--name', 'Acme Corp', '--slug', 'acme', '--json'])
    expect(taken.exitCode).toBe(73)
    expect(taken.json).toEqual({error: {code: 'org.slug_taken', message: expect.any(String), details: null}})
    expect(taken.stderr).toMatch(/^saas-ctl: .+ \[org\.slug_taken\]\n$/)
    const missing = await binary.run(['member', 'list', 'no-such-org'])
    expect(missing.exitCode).toBe(66)
    expect(missing.stdout).toBe('')
    expect(missing.stderr).toMatch(/^saas-ctl: .+ \[org\.not_found\]\n$/)
    const usage = await binary.run(['org', 'list', '--colour', '--json'])
    expect(usage.exitCode).toBe(64)
    expect(usage.json.error.code).toBe('usage')
    const listed = await binary.run(['org', 'list', '--json'])
    expect(listed.exitCode).toBe(0)
    expect(listed.json.map((org: {slug: string}) => org.slug)).toEqual(['acme'])
    expect(await auditActions()).toEqual(actionsBefore)
  })
})

describe('CLI on a fresh machine (the real binary)', () => {
  /** `saas-ctl <args>` in `cwd` with no SAASCTL_* settings, as in a new shell. */
  function runFresh(args: string[], cwd: string): Promise<{exitCode: number; stdout: string; stderr: string}> {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SAASCTL_') && name !== 'NODE_ENV'))
    return new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], {cwd, env, timeout: 20_000}, (error, stdout, stderr) => {
        resolve({exitCode: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr})
      })
    })
  }

  it('the README\'s first command, org create --name "Acme Corp" --slug acme, works in an empty directory (./saas-ctl.db)', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'saasctl-fresh-'))
    try {
      const created = await runFresh(['org', 'create', '--name', 'Acme Corp', '--slug', 'acme'], cwd)
      expect(created.exitCode, created.stderr).toBe(0)
      expect(created.stdout).toContain('acme')
      expect(existsSync(path.join(cwd, 'saas-ctl.db'))).toBe(true)
      const listed = await runFresh(['org', 'list', '--json'], cwd)
      expect(listed.exitCode, listed.stderr).toBe(0)
      expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({slug: 'acme', name: 'Acme Corp'})])
    } finally {
      rmSync(cwd, {recursive: true, force: true})
    }
  })

  it('--version prints saas-ctl/<version of package.json> and exits 0', async () => {
    const {version} = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}
    const cwd = mkdtempSync(path.join(tmpdir(), 'saasctl-fresh-'))
    try {
      const shown = await runFresh(['--version'], cwd)
      expect(shown.exitCode).toBe(0)
      expect(shown.stdout.startsWith(`saas-ctl/${version} `)).toBe(true)
    } finally {
      rmSync(cwd, {recursive: true, force: true})
    }
  })
})
