import {afterAll, beforeAll, expect, it} from 'vitest'
import {SYSTEM_ACTOR} from '../../src/access/principal.js'
import {createCore, type Core} from '../../src/core.js'
import {createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import {FAST_PASSWORD_HASHER, testConfig} from '../helpers/test-core.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// The user and session commands (run in-process), with --json as their contract; the
// sessions are opened by logging in through a core on the same database (as the daemon would).

const PASSWORD = 'correct horse battery staple'

describeEachDialect('CLI users and sessions', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner
  let core: Core

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect, {inProcess: true}))
    core = await createCore({config: testConfig(database.url), cwd: process.cwd(), passwords: FAST_PASSWORD_HASHER})
    await core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
  })
  afterAll(async () => {
    await core?.close()
    await database?.drop()
  })

  it('creates, lists, shows, updates, disables and enables a user', async () => {
    const created = await cli.run(['user', 'create', '--email', 'Ada@Example.com', '--name', 'Ada', '--password-stdin', '--json'], {input: PASSWORD})
    expect(created.exitCode).toBe(0)
    expect(created.json).toMatchObject({email: 'ada@example.com', name: 'Ada', status: 'active', is_platform_admin: false, created: true})
    const again = await cli.run(['user', 'create', '--email', 'ada@example.com', '--if-not-exists', '--json'])
    expect(again.json).toMatchObject({id: created.json.id, created: false})

    const list = await cli.run(['user', 'list', '--json'])
    expect(list.exitCode).toBe(0)
    expect(list.json.map((user: {email: string}) => user.email)).toEqual(['ada@example.com'])
    const table = await cli.run(['user', 'list'])
    expect(table.stdout).toContain('ada@example.com')

    const shown = await cli.run(['user', 'show', 'ADA@example.com', '--json'])
    expect(shown.json).toMatchObject({id: created.json.id, memberships: []})
    const updated = await cli.run(['user', 'update', created.json.id, '--name', 'Ada Lovelace', '--json'])
    expect(updated.json).toMatchObject({id: created.json.id, name: 'Ada Lovelace'})

    expect((await cli.run(['user', 'disable', 'ada@example.com', '--json'])).json).toMatchObject({status: 'disabled'})
    await expect(core.sessions.login({}, {email: 'ada@example.com', password: PASSWORD})).rejects.toMatchObject({code: 'user.disabled'})
    expect((await cli.run(['user', 'enable', 'ada@example.com', '--json'])).json).toMatchObject({status: 'active'})

    const missing = await cli.run(['user', 'show', 'nobody@example.com', '--json'])
    expect(missing.exitCode).toBe(66)
    expect(missing.json.error.code).toBe('user.not_found')
    const invalid = await cli.run(['user', 'update', 'ada@example.com', '--json'])
    expect(invalid.exitCode).toBe(65)
    expect(invalid.json.error.code).toBe('validation.failed')
  })

  it('lists and revokes sessions, one or all of a user, then deletes the user', async () => {
    const first = await core.sessions.login({userAgent: 'cli-test/1'}, {email: 'ada@example.com', password: PASSWORD})
    const second = await core.sessions.login({userAgent: 'cli-test/2'}, {email: 'ada@example.com', password: PASSWORD})
    const third = await core.sessions.login({userAgent: 'cli-test/3'}, {email: 'ada@example.com', password: PASSWORD})

    const listed = await cli.run(['session', 'list', '--user', 'ada@example.com', '--json'])
    expect(listed.exitCode).toBe(0)
    expect(listed.json.map((session: {id: string}) => session.id).sort()).toEqual([first.sessionId, second.sessionId, third.sessionId].sort())
    expect(listed.json[0]).not.toHaveProperty('is_current')

    const one = await cli.run(['session', 'revoke', first.sessionId, '--json'])
    expect(one.exitCode).toBe(0)
    expect(one.json).toMatchObject({id: first.sessionId, revoked: true})
    expect((await cli.run(['session', 'revoke', 'no-such-session', '--json'])).json.error.code).toBe('session.not_found')

    const all = await cli.run(['session', 'revoke', '--user', 'ada@example.com', '--json'])
    expect(all.json).toEqual({user: 'ada@example.com', revoked_sessions: 2})
    expect((await cli.run(['session', 'list', '--user', 'ada@example.com', '--json'])).json).toEqual([])
    await expect(core.sessions.refresh({}, {refreshToken: third.refreshToken})).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})

    const deleted = await cli.run(['user', 'delete', 'ada@example.com', '--yes', '--json'])
    expect(deleted.exitCode).toBe(0)
    expect(deleted.json).toMatchObject({email: 'ada@example.com', deleted: true})
    expect((await cli.run(['user', 'list', '--json'])).json).toEqual([])
    const actions = (await cli.run(['audit', 'tail', '-n', '100', '--json'])).json.map((event: {action: string}) => event.action)
    expect(actions).toEqual(expect.arrayContaining(['user.created', 'user.updated', 'user.disabled', 'user.enabled', 'session.revoked', 'user.deleted']))
  })
})
