import {once} from 'node:events'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {openDatabase} from '../../src/db/open-database.js'
import {parseDatabaseUrl} from '../../src/db/database-url.js'
import {waitUntil} from '../helpers/daemon-process.js'
import {createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// Acceptance items 4 and 5: following the log across processes, and tamper detection.
describeEachDialect('CLI audit log', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect))
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
})
