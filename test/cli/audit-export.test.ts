import {lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {AUDIT_CSV_COLUMNS} from '../../src/audit/audit-export.js'
import {parseDatabaseUrl} from '../../src/db/database-url.js'
import {openDatabase} from '../../src/db/open-database.js'
import {createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// `audit export`, `audit head` and `audit verify [--head]`, the commands run in-process.

describeEachDialect('CLI audit export, head and verify', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner
  let orgId = ''

  const withDatabase = async <T>(work: (db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>): Promise<T> => {
    const opened = await openDatabase(parseDatabaseUrl(database.url, process.cwd()))
    try {
      return await work(opened.db)
    } finally {
      await opened.close()
    }
  }

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect, {inProcess: true}))
    const created = await cli.run(['org', 'create', '--name', 'Exported, "Inc"', '--slug', 'exported', '--json'])
    expect(created.exitCode).toBe(0)
    orgId = created.json.id
    for (const key of ['alpha', 'beta', 'gamma']) expect((await cli.run(['flag', 'create', key])).exitCode).toBe(0)
    expect((await cli.run(['org', 'update', 'exported', '--name', 'Exported Ltd'])).exitCode).toBe(0)
  })
  afterAll(async () => database?.drop())

  it('exports JSON Lines to stdout: every event, oldest first, as audit tail --json prints them; no progress line off a terminal', async () => {
    const exported = await cli.run(['audit', 'export', '--batch-size', '2'])
    expect(exported.exitCode).toBe(0)
    expect(exported.stderr).toBe('')
    const lines = exported.stdout.trimEnd().split('\n').map((line) => JSON.parse(line))
    const tail = await cli.run(['audit', 'tail', '-n', '100', '--json'])
    expect(lines).toEqual(tail.json)
    expect(lines.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5])
  })

  it('exports one org as CSV to a file created 0600; --json reports the file and the count', async () => {
    const file = path.join(cli.cwd, 'org-events.csv')
    // A file that existed readable by others is made private.
    writeFileSync(file, 'old content', {mode: 0o644})
    const exported = await cli.run(['audit', 'export', '--org', 'exported', '--format', 'csv', '-o', file, '--json'])
    expect(exported.exitCode).toBe(0)
    expect(exported.json).toEqual({file, format: 'csv', events: 2})
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600)
    const rows = await withDatabase((db) => db.selectFrom('audit_event').select(['seq', 'id', 'created_at', 'action', 'actor_id', 'actor_name']).where('org_id', '=', orgId).orderBy('seq').execute())
    const created = rows[0]!
    const updated = rows[1]!
    expect(readFileSync(file, 'utf8')).toBe(
      [
        AUDIT_CSV_COLUMNS.join(','),
        `${created.seq},${created.id},${created.created_at},org.created,${orgId},cli,${created.actor_id},${created.actor_name},org,${orgId},,,,"{""slug"":""exported"",""name"":""Exported, \\""Inc\\"""",""tier"":""free""}"`,
        `${updated.seq},${updated.id},${updated.created_at},org.updated,${orgId},cli,${updated.actor_id},${updated.actor_name},org,${orgId},,,,"{""changes"":{""name"":{""from"":""Exported, \\""Inc\\"""",""to"":""Exported Ltd""}}}"`,
        '',
      ].join('\n'),
    )

    const none = await cli.run(['audit', 'export', '--since', '2999-01-01', '--format', 'csv'])
    expect(none.exitCode).toBe(0)
    expect(none.stdout).toBe(`${AUDIT_CSV_COLUMNS.join(',')}\n`)
    const bad = await cli.run(['audit', 'export', '--since', 'yesterday', '--json'])
    expect(bad.exitCode).toBe(65)
    expect(bad.json.error.code).toBe('validation.failed')
  })

  // Review F9: -o once opened the path with 'w' (following a symbolic link, truncating and chmodding its target) and deleted it on failure.
  it.skipIf(process.platform === 'win32')('-o naming a symbolic link replaces the link with the export (mode 0600); the file it pointed to is untouched', async () => {
    const victim = path.join(cli.cwd, 'victim.txt')
    writeFileSync(victim, 'precious', {mode: 0o644})
    const link = path.join(cli.cwd, 'link.jsonl')
    symlinkSync(victim, link)
    const exported = await cli.run(['audit', 'export', '-o', link, '--json'])
    expect(exported.exitCode).toBe(0)
    expect(exported.json).toMatchObject({file: link, events: 5})
    expect(readFileSync(victim, 'utf8')).toBe('precious')
    expect(statSync(victim).mode & 0o777).toBe(0o644)
    expect(lstatSync(link).isSymbolicLink()).toBe(false)
    expect(lstatSync(link).mode & 0o777).toBe(0o600)
    expect(readFileSync(link, 'utf8').trimEnd().split('\n')).toHaveLength(5)
  })

  // In-process, an error after the command returned (the EBADF of the temporary file's descriptor
  // closed twice, fixed in cd3fc5f) is an uncaught exception that fails this file; the binary only
  // printed its stack trace on the way out.
  it('a failed export leaves the file already at the -o path as it was, and no temporary file behind', async () => {
    const file = path.join(cli.cwd, 'kept.jsonl')
    writeFileSync(file, 'the previous export\n', {mode: 0o600})
    const victim = await withDatabase((db) => db.selectFrom('audit_event').select(['seq', 'metadata']).where('seq', '=', 3).executeTakeFirstOrThrow())
    // An event that no longer reads (its metadata is not JSON) fails the export after the output was opened.
    await withDatabase((db) => db.updateTable('audit_event').set({metadata: 'not json'}).where('seq', '=', 3).execute())
    try {
      const failed = await cli.run(['audit', 'export', '-o', file, '--batch-size', '2'])
      expect(failed.exitCode).not.toBe(0)
      expect(failed.stderr).not.toMatch(/\n\s+at /)
    } finally {
      await withDatabase((db) => db.updateTable('audit_event').set({metadata: victim.metadata}).where('seq', '=', 3).execute())
    }
    expect(readFileSync(file, 'utf8')).toBe('the previous export\n')
    expect(readdirSync(cli.cwd).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('audit head prints <seq>:<hash>; verify prints it too and checks --head against the chain', async () => {
    const head = await cli.run(['audit', 'head'])
    expect(head.exitCode).toBe(0)
    const headText = head.stdout.trim()
    expect(headText).toMatch(/^5:[0-9a-f]{64}$/)
    const verified = await cli.run(['audit', 'verify', '--head', headText, '--json'])
    expect(verified.exitCode).toBe(0)
    expect(verified.json).toMatchObject({is_intact: true, checked_events: 5, pruned_events: 0, head: {seq: 5}, checkpoint: {seq: 5}, expected_head: {seq: 5, status: 'found'}})
    expect(`${verified.json.head.seq}:${verified.json.head.hash}`).toBe(headText)
    const plain = await cli.run(['audit', 'verify'])
    expect(plain.stdout).toContain(`Head: ${headText}`)
    const malformed = await cli.run(['audit', 'verify', '--head', 'abc', '--json'])
    expect(malformed.exitCode).toBe(65)
    expect(malformed.json.error.code).toBe('validation.failed')
  })

  it('verify reports events deleted from the end (exit 1), and a rolled-back checkpoint through --head', async () => {
    const keptElsewhere = (await cli.run(['audit', 'head'])).stdout.trim()
    const earlier = await withDatabase((db) => db.selectFrom('audit_checkpoint').selectAll().where('kind', '=', 'head').executeTakeFirstOrThrow())
    expect((await cli.run(['flag', 'create', 'delta'])).exitCode).toBe(0)
    expect((await cli.run(['flag', 'create', 'epsilon'])).exitCode).toBe(0)
    const newest = (await cli.run(['audit', 'head'])).stdout.trim()

    await withDatabase((db) => db.deleteFrom('audit_event').where('seq', '>', 5).execute())
    const cut = await cli.run(['audit', 'verify', '--json'])
    expect(cut.exitCode).toBe(1)
    expect(cut.json.error).toMatchObject({code: 'audit.events_cut', details: {seq: 7, checked_events: 5}})
    expect(cut.stderr).toContain('audit.events_cut')

    // Whoever also puts the older checkpoint back hides the cut from the checkpoint, not from a head kept elsewhere.
    await withDatabase((db) => db.updateTable('audit_checkpoint').set({seq: earlier.seq, hash: earlier.hash, mac: earlier.mac}).where('kind', '=', 'head').execute())
    expect((await cli.run(['audit', 'verify'])).exitCode).toBe(0)
    expect((await cli.run(['audit', 'verify', '--head', keptElsewhere])).exitCode).toBe(0)
    const rolledBack = await cli.run(['audit', 'verify', '--head', newest, '--json'])
    expect(rolledBack.exitCode).toBe(1)
    expect(rolledBack.json.error).toMatchObject({code: 'audit.head_not_found', details: {seq: 7}})

    // A checkpoint edited without the key.
    await withDatabase((db) => db.updateTable('audit_checkpoint').set({seq: 4}).where('kind', '=', 'head').execute())
    const forged = await cli.run(['audit', 'verify', '--json'])
    expect(forged.exitCode).toBe(1)
    expect(forged.json.error.code).toBe('audit.checkpoint_invalid')
  })

  it('audit sign-head: asks (refuses without a terminal), replaces a forged head only with --accept-cut, and signs a missing one', async () => {
    // The previous test left a forged head and a chain cut back to #5.
    const unconfirmed = await cli.run(['audit', 'sign-head', '--json'])
    expect(unconfirmed.json.error.code).toBe('confirmation.required')
    const refused = await cli.run(['audit', 'sign-head', '--yes', '--json'])
    expect(refused.exitCode).toBe(1)
    expect(refused.json.error.code).toBe('audit.checkpoint_invalid')
    const accepted = await cli.run(['audit', 'sign-head', '--accept-cut', '--yes', '--json'])
    expect(accepted.exitCode).toBe(0)
    expect(accepted.json).toMatchObject({reason: 'invalid', signed: {seq: 5}, previous_head: {seq: 4}})
    expect((await cli.run(['audit', 'verify'])).exitCode).toBe(0)

    // A deleted head: verify fails, the next change does not bring it back, sign-head does.
    await withDatabase((db) => db.deleteFrom('audit_checkpoint').where('kind', '=', 'head').execute())
    expect((await cli.run(['flag', 'create', 'zeta'])).exitCode).toBe(0)
    const missing = await cli.run(['audit', 'verify', '--json'])
    expect(missing.exitCode).toBe(1)
    expect(missing.json.error.code).toBe('audit.checkpoint_missing')
    const signed = await cli.run(['audit', 'sign-head', '--yes'])
    expect(signed.exitCode).toBe(0)
    expect(signed.stdout).toContain('audit.head_signed')
    const verified = await cli.run(['audit', 'verify', '--json'])
    expect(verified.exitCode).toBe(0)
    expect(verified.json).toMatchObject({is_intact: true, unsigned_events: 0})
  })
})
