import {once} from 'node:events'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {userActor} from '../../src/access/principal.js'
import {createAuditNameResolver} from '../../src/audit/audit-names.js'
import {createCore} from '../../src/core.js'
import {openDatabase} from '../../src/db/open-database.js'
import {parseDatabaseUrl} from '../../src/db/database-url.js'
import {waitUntil} from '../helpers/daemon-process.js'
import {createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import {testConfig} from '../helpers/test-core.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// Acceptance items 4 and 5: following the log across processes, and tamper detection.
describeEachDialect('CLI audit log', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect, {inProcess: true}))
    expect((await cli.run(['flag', 'create', 'beta-dashboard'])).exitCode).toBe(0)
  })
  afterAll(async () => database?.drop())

  it('follows events written by another process within 2 seconds, one JSON object per line', async () => {
    const follower = cli.start(['audit', 'tail', '--follow', '--json'])
    const lines: any[] = []
    let buffered = ''
    follower.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const complete = buffered.split('\n')
      buffered = complete.pop()!
      for (const line of complete) lines.push(JSON.parse(line))
    })
    try {
      await waitUntil(async () => lines.length >= 1, 10_000)
      expect(lines[0]).toMatchObject({action: 'flag.created'})

      const created = await cli.run(['org', 'create', '--name', 'Followed Inc', '--slug', 'followed', '--json'])
      expect(created.exitCode).toBe(0)
      const writtenAt = Date.now()
      await waitUntil(async () => lines.some((event) => event.action === 'org.created'), 2_000)
      expect(Date.now() - writtenAt).toBeLessThanOrEqual(2_000)
      const event = lines.find((line) => line.action === 'org.created')
      expect(event).toMatchObject({org_id: created.json.id, actor: {type: 'cli'}, target: {type: 'org', id: created.json.id}, metadata: {slug: 'followed'}})
      expect(Object.keys(event)).toEqual(expect.arrayContaining(['id', 'action', 'org_id', 'actor', 'target', 'metadata', 'created_at']))
    } finally {
      follower.kill('SIGINT')
    }
    const [exitCode] = await once(follower, 'exit')
    expect(exitCode).toBe(0)
  })

  it('verifies an untouched chain and names the event whose row was changed', async () => {
    const intact = await cli.run(['audit', 'verify', '--json'])
    expect(intact.exitCode).toBe(0)
    expect(intact.json).toMatchObject({is_intact: true, checked_events: 2})

    const opened = await openDatabase(parseDatabaseUrl(database.url, process.cwd()))
    const victim = await opened.db.selectFrom('audit_event').select(['id', 'seq']).where('action', '=', 'flag.created').executeTakeFirstOrThrow()
    await opened.db.updateTable('audit_event').set({metadata: '{"key":"tampered"}'}).where('id', '=', victim.id).execute()
    await opened.close()

    const broken = await cli.run(['audit', 'verify', '--json'])
    expect(broken.exitCode).not.toBe(0)
    expect(broken.json.error).toMatchObject({code: 'audit.chain_broken', details: {event_id: victim.id}})
    expect(broken.stderr).toContain(victim.id)
  })

  it('shows org slugs and user emails beside their ids in the human form, looked up in one query per page; --json keeps ids only', async () => {
    const org = (await cli.run(['org', 'create', '--name', 'Named Co', '--slug', 'named', '--json'])).json
    const user = (await cli.run(['user', 'create', '--email', 'ada@named.test', '--json'])).json
    expect((await cli.run(['member', 'add', 'named', 'ada@named.test', '--role', 'owner'])).exitCode).toBe(0)
    // A user acting through the daemon: the event records the user's id, not the email.
    const core = await createCore({config: testConfig(database.url), cwd: process.cwd()})
    try {
      await core.orgs.updateOrg(userActor({userId: user.id, sessionId: 'session-1', orgId: org.id}), {org: 'named', name: 'Named Company'})
    } finally {
      await core.close()
    }

    const tail = await cli.run(['audit', 'tail', '-n', '4'])
    expect(tail.exitCode).toBe(0)
    const lines = tail.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(4)
    const line = (action: string) => lines.find((text) => text.split(/\s+/)[1] === action)!
    expect(line('org.created')).toContain(`cli:`)
    expect(line('org.created')).toContain(`org=named (${org.id})  org:named (${org.id})`)
    expect(line('user.created')).toContain(`org=-  user:ada@named.test (${user.id})`)
    expect(line('member.added')).toContain(`org=named (${org.id})  user:ada@named.test (${user.id})`)
    expect(line('org.updated')).toContain(`user:ada@named.test (${user.id})  org=named (${org.id})  org:named (${org.id})`)

    const json = await cli.run(['audit', 'tail', '-n', '4', '--json'])
    const updated = json.json.find((event: {action: string}) => event.action === 'org.updated')
    expect(updated).toMatchObject({org_id: org.id, actor: {type: 'user', id: user.id, name: null}, target: {type: 'org', id: org.id}})
    expect(Object.keys(updated).sort()).toEqual(['action', 'actor', 'created_at', 'id', 'ip', 'metadata', 'org_id', 'request_id', 'seq', 'target', 'user_agent'])

    // One query for a page naming orgs and users; an id without a row (a purged org) stays unnamed.
    const opened = await openDatabase(parseDatabaseUrl(database.url, process.cwd()))
    try {
      let queries = 0
      // transformResult runs once per executed statement (transformQuery also sees sub-queries).
      const counted = opened.db.withPlugin({
        transformQuery: (args) => args.node,
        transformResult: async (args) => {
          queries += 1
          return args.result
        },
      })
      const core = await createCore({config: testConfig(database.url), cwd: process.cwd()})
      const events = await core.audit.listEvents({}, 100).finally(() => core.close())
      const purged = {...events.at(-1)!, orgId: '01900000-0000-7000-8000-000000000000'}
      const names = await createAuditNameResolver({db: counted}).namesOf([...events, purged])
      expect(queries).toBe(1)
      expect(names.orgSlugs.get(org.id)).toBe('named')
      expect(names.orgSlugs.has(purged.orgId)).toBe(false)
      expect(names.userEmails).toEqual(new Map([[user.id, 'ada@named.test']]))
    } finally {
      await opened.close()
    }
  })
})
