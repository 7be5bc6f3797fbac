import {createHmac, hkdfSync} from 'node:crypto'
import {afterEach, describe, expect, it} from 'vitest'
import {createCheckpointSigner} from '../../src/audit/audit-checkpoint.js'
import {computeEventHash} from '../../src/audit/audit-hash.js'
import {pruneExpiredEvents} from '../../src/audit/audit-retention.js'
import type {AuditEventRow} from '../../src/db/database.js'
import {SYSTEM_ACTOR, type Actor} from '../../src/access/principal.js'
import {GENESIS_HASH} from '../../src/audit/audit-hash.js'
import {createCore} from '../../src/core.js'
import {createTestCore, FAST_PASSWORD_HASHER, OPERATOR, testConfig, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

// Truncation detection (the signed head checkpoint) and retention (the signed checkpoint of the
// pruned prefix), checked by tampering with the database directly, as someone holding a copy
// of it (but not the secret key) could.

const DAY = 86_400_000

describeEachDialect('audit checkpoints and retention', (dialect) => {
  let t: TestCore
  afterEach(async () => t?.close())

  const db = () => t.core.database.db
  const eventAt = (seq: number) => db().selectFrom('audit_event').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow()
  const checkpoint = (kind: 'head' | 'pruned') => db().selectFrom('audit_checkpoint').selectAll().where('kind', '=', kind).executeTakeFirst()

  async function createOrgs(count: number, prefix = 'org'): Promise<void> {
    for (let index = 0; index < count; index += 1) {
      t.clock.advance(1000)
      await t.core.orgs.createOrg(OPERATOR, {name: `${prefix} ${index}`, slug: `${prefix}-${index}-${Math.random().toString(36).slice(2, 8)}`})
    }
  }

  /** Replaces events from `seq` on with a forged, well-chained continuation (content changed, hashes recomputed). */
  async function forgeTailFrom(seq: number, count: number): Promise<void> {
    const previous = await eventAt(seq - 1)
    await db().deleteFrom('audit_event').where('seq', '>=', seq).execute()
    let prevHash = previous.hash
    for (let index = 0; index < count; index += 1) {
      const content: Omit<AuditEventRow, 'hash'> = {...previous, seq: seq + index, id: `forged-${seq + index}`, metadata: JSON.stringify({forged: true}), prev_hash: prevHash}
      const hash = computeEventHash(content)
      await db().insertInto('audit_event').values({...content, hash}).execute()
      prevHash = hash
    }
  }

  describe('the head checkpoint', () => {
    it('is signed on every append and verifies with the chain', async () => {
      t = await createTestCore(dialect)
      await createOrgs(5)
      const newest = await eventAt(5)
      expect(await checkpoint('head')).toMatchObject({seq: 5, hash: newest.hash})
      const result = await t.core.audit.verify()
      expect(result).toMatchObject({isIntact: true, checkedEvents: 5, prunedEvents: 0, head: {seq: 5, hash: newest.hash}, checkpoint: {seq: 5, hash: newest.hash}, problem: null})
    })

    it('reports events deleted from the end, also after later appends (the checkpoint is not moved back)', async () => {
      t = await createTestCore(dialect)
      await createOrgs(5)
      await db().deleteFrom('audit_event').where('seq', '>=', 4).execute()
      // The chain alone still looks whole.
      expect(await t.core.audit.verifyChain()).toEqual({isIntact: true, checkedEvents: 3})
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'events_cut', seq: 5}})

      // The next changes continue the shortened chain but leave the signed head where it was.
      await createOrgs(1, 'later')
      expect(await checkpoint('head')).toMatchObject({seq: 5})
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'events_cut', seq: 5}})
      await createOrgs(3, 'more')
      expect(await t.core.audit.verifyChain()).toMatchObject({isIntact: true, checkedEvents: 7})
      expect(await checkpoint('head')).toMatchObject({seq: 5})
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'events_cut', seq: 5}})
    })

    it('reports the end replaced by a well-chained forgery', async () => {
      t = await createTestCore(dialect)
      await createOrgs(5)
      await forgeTailFrom(4, 3)
      expect(await t.core.audit.verifyChain()).toEqual({isIntact: true, checkedEvents: 6})
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'events_cut', seq: 5, id: 'forged-5'}})
    })

    it('reports a checkpoint moved back without the key (MAC kept, or made with another key)', async () => {
      t = await createTestCore(dialect)
      await createOrgs(5)
      const third = await eventAt(3)
      await db().deleteFrom('audit_event').where('seq', '>', 3).execute()
      await db().updateTable('audit_checkpoint').set({seq: 3, hash: third.hash}).where('kind', '=', 'head').execute()
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'checkpoint_invalid', seq: 3}})

      const otherKey = Buffer.from(hkdfSync('sha256', Buffer.alloc(32, 7), Buffer.alloc(0), 'saas-ctl audit checkpoint v1', 32))
      const forgedMac = createHmac('sha256', otherKey).update(`audit_checkpoint:head:3:${third.hash}`).digest('hex')
      await db().updateTable('audit_checkpoint').set({mac: forgedMac}).where('kind', '=', 'head').execute()
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'checkpoint_invalid'}})
      // An append does not overwrite (and so launder) a checkpoint it cannot authenticate.
      await createOrgs(1, 'after-forgery')
      expect(await checkpoint('head')).toMatchObject({seq: 3, mac: forgedMac})
    })

    it('reports a deleted checkpoint while events exist; an empty log needs none', async () => {
      t = await createTestCore(dialect)
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, checkedEvents: 0, head: null, checkpoint: null})
      await createOrgs(2)
      await db().deleteFrom('audit_checkpoint').execute()
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'checkpoint_missing'}})
    })

    it('an older signed checkpoint put back hides a cut from the checkpoint, not from a head kept elsewhere', async () => {
      t = await createTestCore(dialect)
      await createOrgs(3)
      const saved = (await checkpoint('head'))!
      await createOrgs(2)
      const keptElsewhere = (await t.core.audit.verify()).head!
      expect(keptElsewhere.seq).toBe(5)
      expect(await t.core.audit.verify({expectedHead: keptElsewhere})).toMatchObject({isIntact: true, expectedHead: {...keptElsewhere, status: 'found'}})
      expect(await t.core.audit.verify({expectedHead: {seq: null, hash: keptElsewhere.hash}})).toMatchObject({isIntact: true, expectedHead: {status: 'found'}})

      // Roll the database back: cut events 4 and 5 and put the checkpoint of #3 back.
      await db().deleteFrom('audit_event').where('seq', '>', 3).execute()
      await db().updateTable('audit_checkpoint').set({seq: saved.seq, hash: saved.hash, mac: saved.mac}).where('kind', '=', 'head').execute()
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, checkedEvents: 3})
      expect(await t.core.audit.verify({expectedHead: keptElsewhere})).toMatchObject({isIntact: false, problem: {kind: 'head_not_found', seq: 5}})
      expect(await t.core.audit.verify({expectedHead: {seq: null, hash: keptElsewhere.hash}})).toMatchObject({isIntact: false, problem: {kind: 'head_not_found'}})
    })

    it('with audit_checkpoint_interval N, signs the first append and then every seq that is a multiple of N', async () => {
      t = await createTestCore(dialect, {auditCheckpointInterval: 3})
      await createOrgs(1)
      expect(await checkpoint('head')).toMatchObject({seq: 1})
      await createOrgs(1)
      expect(await checkpoint('head')).toMatchObject({seq: 1})
      await createOrgs(1)
      expect(await checkpoint('head')).toMatchObject({seq: 3, hash: (await eventAt(3)).hash})
      await createOrgs(2)
      expect(await checkpoint('head')).toMatchObject({seq: 3})
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, checkedEvents: 5})
      // What the interval gives up: events after the last checkpoint (#4, #5) can be cut unseen.
      await db().deleteFrom('audit_event').where('seq', '>', 3).execute()
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, checkedEvents: 3})
      // A cut reaching the checkpointed event is seen, and the next due append does not move the head past it.
      await db().deleteFrom('audit_event').where('seq', '=', 3).execute()
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'events_cut', seq: 3}})
      await createOrgs(4, 'after-cut')
      expect(await checkpoint('head')).toMatchObject({seq: 3})
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'events_cut', seq: 3}})
    })

    if (dialect === 'postgres') {
      it('on Postgres without secret_key, changes are appended unsigned; the next append with the key signs a head covering them', async () => {
        t = await createTestCore(dialect)
        await createOrgs(2)
        const keyless = await createCore({config: testConfig(t.database.url, {secretKey: undefined}), cwd: process.cwd(), clock: t.clock, passwords: FAST_PASSWORD_HASHER})
        try {
          await keyless.orgs.createOrg(OPERATOR, {name: 'Unsigned', slug: 'unsigned'})
          await keyless.orgs.createOrg(OPERATOR, {name: 'Unsigned 2', slug: 'unsigned-2'})
          await expect(keyless.audit.verify()).rejects.toMatchObject({code: 'secret_key.required'})
          await expect(keyless.jobs.runNow('purge-audit-events', 'test')).resolves.toEqual({events_pruned: 0})
        } finally {
          await keyless.close()
        }
        expect(await checkpoint('head')).toMatchObject({seq: 2})
        // Meanwhile the signed head still catches a cut that reaches it.
        expect(await t.core.audit.verify()).toMatchObject({isIntact: true, checkedEvents: 4, checkpoint: {seq: 2}})
        await createOrgs(1, 'signed')
        expect(await checkpoint('head')).toMatchObject({seq: 5, hash: (await eventAt(5)).hash})
        expect(await t.core.audit.verify()).toMatchObject({isIntact: true, checkedEvents: 5})
      })
    }
  })

  /** Appends well-chained events straight into the table, as someone holding only the database (or a database from before checkpoints) would have them. */
  async function insertRawEvents(count: number): Promise<void> {
    const newest = await db().selectFrom('audit_event').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst()
    let previous = newest ? {seq: Number(newest.seq), hash: newest.hash} : {seq: 0, hash: GENESIS_HASH}
    for (let index = 0; index < count; index += 1) {
      const seq = previous.seq + 1
      const content: Omit<AuditEventRow, 'hash'> = {
        seq,
        id: `raw-${seq}`,
        action: 'org.created',
        org_id: null,
        actor_type: 'cli',
        actor_id: null,
        actor_name: 'someone',
        target_type: null,
        target_id: null,
        metadata: '{}',
        ip: null,
        user_agent: null,
        request_id: null,
        created_at: t.clock.now().toISOString(),
        prev_hash: previous.hash,
      }
      const hash = computeEventHash(content)
      await db().insertInto('audit_event').values({...content, hash}).execute()
      previous = {seq, hash}
    }
  }

  describe('a missing head is never recreated by an append (review F1)', () => {
    for (const interval of [1, 3]) {
      it(`interval ${interval}: events cut, the head row deleted, then an ordinary append: verify still reports the missing head, and nothing is signed`, async () => {
        t = await createTestCore(dialect, {auditCheckpointInterval: interval})
        await createOrgs(6)
        expect(await checkpoint('head')).toMatchObject({seq: 6})
        await db().deleteFrom('audit_event').where('seq', '>', 3).execute()
        await db().deleteFrom('audit_checkpoint').where('kind', '=', 'head').execute()
        // #4, #5, #6 (#6 would be due with interval 3): none writes a head.
        await createOrgs(3, 'after-cut')
        expect(await checkpoint('head')).toBeUndefined()
        expect(await t.core.audit.verifyChain()).toEqual({isIntact: true, checkedEvents: 6})
        expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'checkpoint_missing'}})
      })
    }

    it('a rewritten chain without its head is not signed by the next append either', async () => {
      t = await createTestCore(dialect)
      await createOrgs(4)
      await forgeTailFrom(2, 3)
      await db().deleteFrom('audit_checkpoint').execute()
      await createOrgs(1, 'after-rewrite')
      expect(await checkpoint('head')).toBeUndefined()
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'checkpoint_missing'}})
    })

    it('the first append of a fresh log signs the head (interval 1 and N)', async () => {
      t = await createTestCore(dialect, {auditCheckpointInterval: 5})
      expect(await checkpoint('head')).toBeUndefined()
      await createOrgs(1)
      expect(await checkpoint('head')).toMatchObject({seq: 1, hash: (await eventAt(1)).hash})
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, checkedEvents: 1, unsignedEvents: 0})
    })

    it('a database upgraded with events and no checkpoint stays unsigned until `audit sign-head`, which is audited and then covers the log', async () => {
      t = await createTestCore(dialect)
      await insertRawEvents(3)
      await createOrgs(2)
      expect(await checkpoint('head')).toBeUndefined()
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'checkpoint_missing'}})

      await expect(t.core.audit.signHead(SYSTEM_ACTOR)).rejects.toMatchObject({code: 'permission.denied'})
      const signed = await t.core.audit.signHead(OPERATOR)
      expect(signed).toMatchObject({reason: 'missing', signed: {seq: 5, hash: (await eventAt(5)).hash}, previousHead: null, checkedEvents: 5})
      const recorded = await eventAt(6)
      expect(recorded).toMatchObject({action: 'audit.head_signed', actor_type: 'cli'})
      expect(JSON.parse(recorded.metadata)).toMatchObject({seq: 5, reason: 'missing', previous_head: null})
      expect(await checkpoint('head')).toMatchObject({seq: 6, hash: recorded.hash})
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, checkedEvents: 6, unsignedEvents: 0})
      // Covered from now on: a cut is reported again.
      await createOrgs(1, 'later')
      await db().deleteFrom('audit_event').where('seq', '=', 7).execute()
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'events_cut', seq: 7}})
    })

    it('`audit sign-head` refuses a broken chain, a head kept elsewhere the chain lacks, and a cut unless accepted', async () => {
      t = await createTestCore(dialect)
      await createOrgs(5)
      const keptElsewhere = (await t.core.audit.verify()).head!
      // A cut: refused without acceptCut, nothing signed.
      await db().deleteFrom('audit_event').where('seq', '>', 3).execute()
      await expect(t.core.audit.signHead(OPERATOR)).rejects.toMatchObject({code: 'audit.events_cut'})
      await expect(t.core.audit.signHead(OPERATOR, {acceptCut: true, expectedHead: keptElsewhere})).rejects.toMatchObject({code: 'audit.head_not_found'})
      expect(await checkpoint('head')).toMatchObject({seq: 5})
      // Accepted: signed where the chain now ends, the old head recorded.
      const third = await eventAt(3)
      expect(await t.core.audit.signHead(OPERATOR, {acceptCut: true})).toMatchObject({reason: 'cut', signed: {seq: 3, hash: third.hash}, previousHead: {seq: 5, hash: keptElsewhere.hash}})
      expect(JSON.parse((await eventAt(4)).metadata)).toMatchObject({reason: 'cut', previous_head: {seq: 5, hash: keptElsewhere.hash}})
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, checkedEvents: 4})
      // Already at the end: nothing to do, nothing recorded.
      expect(await t.core.audit.signHead(OPERATOR)).toMatchObject({reason: 'current', signed: {seq: 4}})
      expect(await t.core.audit.latestSeq()).toBe(4)
      // A forged head is replaced only when accepted.
      await db().updateTable('audit_checkpoint').set({mac: 'f'.repeat(64)}).where('kind', '=', 'head').execute()
      await expect(t.core.audit.signHead(OPERATOR)).rejects.toMatchObject({code: 'audit.checkpoint_invalid'})
      // A broken chain is never signed, accepted or not.
      await db().updateTable('audit_event').set({metadata: '{"tampered":true}'}).where('seq', '=', 2).execute()
      await expect(t.core.audit.signHead(OPERATOR, {acceptCut: true})).rejects.toMatchObject({code: 'audit.chain_broken', details: {seq: 2}})
      expect(await checkpoint('head')).toMatchObject({seq: 4, mac: 'f'.repeat(64)})
    })

    it('`restore` records itself as the newest event, signed like any append; only an operator records it', async () => {
      t = await createTestCore(dialect)
      await createOrgs(2, 'before')
      await t.core.audit.recordRestore(OPERATOR, {backupFile: '/backups/app.db', backupMigrations: 9})
      const [newest] = await t.core.audit.listEvents({}, 1)
      expect(newest).toMatchObject({action: 'database.restored', actor: {type: 'cli'}, metadata: {backup_file: '/backups/app.db', backup_migrations: 9}})
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, checkedEvents: 3})
      const user: Actor = {principal: {kind: 'user', userId: 'someone', sessionId: '', boundOrgId: null, email: 'someone@example.com'}, origin: {}}
      await expect(t.core.audit.recordRestore(user, {backupFile: 'x', backupMigrations: 1})).rejects.toMatchObject({code: 'permission.denied'})
      expect(await t.core.audit.latestSeq()).toBe(3)
    })

    it('`audit sign-head` on an empty log signs nothing', async () => {
      t = await createTestCore(dialect)
      expect(await t.core.audit.signHead(OPERATOR)).toMatchObject({reason: 'empty', signed: null})
      expect(await checkpoint('head')).toBeUndefined()
    })

    if (dialect === 'postgres') {
      it('on Postgres, a log whose first events were written without secret_key gets its head from `audit sign-head`', async () => {
        t = await createTestCore(dialect)
        const keyless = await createCore({config: testConfig(t.database.url, {secretKey: undefined}), cwd: process.cwd(), clock: t.clock, passwords: FAST_PASSWORD_HASHER})
        try {
          await keyless.orgs.createOrg(OPERATOR, {name: 'First', slug: 'first'})
        } finally {
          await keyless.close()
        }
        await createOrgs(1, 'keyed')
        expect(await checkpoint('head')).toBeUndefined()
        expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'checkpoint_missing'}})
        expect(await t.core.audit.signHead(OPERATOR)).toMatchObject({reason: 'missing', signed: {seq: 2}})
        expect(await t.core.audit.verify()).toMatchObject({isIntact: true, checkedEvents: 3})
      })
    }
  })

  describe('events after the signed head that no signature covers (review F6)', () => {
    it('interval 1: events appended behind saas-ctl\'s back are counted; a problem on SQLite (every append signs), only reported on Postgres', async () => {
      t = await createTestCore(dialect)
      await createOrgs(3)
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, unsignedEvents: 0})
      await insertRawEvents(2)
      const result = await t.core.audit.verify()
      expect(result.unsignedEvents).toBe(2)
      if (dialect === 'sqlite') expect(result).toMatchObject({isIntact: false, problem: {kind: 'unsigned_events', seq: 4}})
      else expect(result).toMatchObject({isIntact: true, problem: null})
      // The operator who checked them signs them (`audit sign-head`): covered again.
      expect(await t.core.audit.signHead(OPERATOR)).toMatchObject({reason: 'behind', signed: {seq: 5}, previousHead: {seq: 3}})
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, unsignedEvents: 0})
    })

    it('interval N: up to N−1 unsigned events are normal; N or more is a problem on SQLite', async () => {
      t = await createTestCore(dialect, {auditCheckpointInterval: 3})
      await createOrgs(5)
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, unsignedEvents: 2, checkpoint: {seq: 3}})
      await insertRawEvents(1)
      const result = await t.core.audit.verify()
      expect(result.unsignedEvents).toBe(3)
      if (dialect === 'sqlite') expect(result).toMatchObject({isIntact: false, problem: {kind: 'unsigned_events'}})
      else expect(result).toMatchObject({isIntact: true})
    })
  })

  describe('retention', () => {
    it('prunes events older than audit_retention_days; the rest verifies from the signed checkpoint of the pruned prefix', async () => {
      t = await createTestCore(dialect, {auditRetentionDays: 30})
      await createOrgs(5, 'old')
      const lastOld = await eventAt(5)
      t.clock.advance(40 * DAY)
      await createOrgs(2, 'new')

      expect(await t.core.jobs.runNow('purge-audit-events', 'test')).toEqual({events_pruned: 5})
      expect(await db().selectFrom('audit_event').select('seq').orderBy('seq').execute()).toEqual([{seq: 6}, {seq: 7}, {seq: 8}])
      expect(await checkpoint('pruned')).toMatchObject({seq: 5, hash: lastOld.hash})
      const pruned = await eventAt(8)
      expect(pruned).toMatchObject({action: 'audit.pruned', actor_type: 'system', org_id: null})
      expect(JSON.parse(pruned.metadata)).toEqual({events: 5, from_seq: 1, through_seq: 5, older_than: new Date(t.clock.now().getTime() - 30 * DAY).toISOString(), retention_days: 30})

      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, checkedEvents: 3, prunedEvents: 5, checkpoint: {seq: 8}})
      expect(await t.core.audit.verifyChain()).toEqual({isIntact: true, checkedEvents: 3})
      // The orgs whose events were pruned are untouched.
      expect((await t.core.orgs.listOrgs(OPERATOR, {})).filter((org) => org.slug.startsWith('old-'))).toHaveLength(5)
      // Nothing more is old enough; appends continue the chain.
      expect(await t.core.jobs.runNow('purge-audit-events', 'test')).toEqual({events_pruned: 0})
      await createOrgs(1, 'newer')
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, checkedEvents: 4, prunedEvents: 5})
      // A head kept from before the prune can no longer be checked; one kept since can.
      expect(await t.core.audit.verify({expectedHead: {seq: 3, hash: 'a'.repeat(64)}})).toMatchObject({isIntact: true, expectedHead: {status: 'pruned'}})
      expect(await t.core.audit.verify({expectedHead: {seq: 5, hash: lastOld.hash}})).toMatchObject({isIntact: true, expectedHead: {status: 'found'}})
    })

    it('keeps the newest event when every event is old', async () => {
      t = await createTestCore(dialect, {auditRetentionDays: 1})
      await createOrgs(7)
      t.clock.advance(2 * DAY)
      expect(await t.core.jobs.runNow('purge-audit-events', 'test')).toEqual({events_pruned: 6})
      expect(await db().selectFrom('audit_event').select(['seq', 'action']).orderBy('seq').execute()).toEqual([
        {seq: 7, action: 'org.created'},
        {seq: 8, action: 'audit.pruned'},
      ])
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, prunedEvents: 6, checkedEvents: 2})
    })

    it('prunes in batches, one transaction, checkpoint and audit.pruned each', async () => {
      t = await createTestCore(dialect, {auditRetentionDays: 1})
      await createOrgs(7)
      t.clock.advance(2 * DAY)
      const signer = createCheckpointSigner(t.core.secretKey)
      const deps = {db: db(), clock: t.clock, newId: () => crypto.randomUUID(), signer, retentionDays: 1, append: t.core.audit.append, batchSize: 2}
      // #1–2, #3–4, #5–6 (each followed by its audit.pruned: #8, #9, #10), then #7, no longer the newest.
      expect(await pruneExpiredEvents(deps)).toBe(7)
      const left = await db().selectFrom('audit_event').select(['seq', 'action', 'metadata']).orderBy('seq').execute()
      expect(left.map((row) => [row.seq, row.action, JSON.parse(row.metadata).through_seq])).toEqual([
        [8, 'audit.pruned', 2],
        [9, 'audit.pruned', 4],
        [10, 'audit.pruned', 6],
        [11, 'audit.pruned', 7],
      ])
      expect(await checkpoint('pruned')).toMatchObject({seq: 7})
      expect(await t.core.audit.verify()).toMatchObject({isIntact: true, prunedEvents: 7, checkedEvents: 4})
    })

    it('refuses to prune events that do not chain (pruning launders nothing), deleting none', async () => {
      t = await createTestCore(dialect, {auditRetentionDays: 1})
      await createOrgs(4)
      await db().updateTable('audit_event').set({metadata: '{"slug":"tampered"}'}).where('seq', '=', 2).execute()
      t.clock.advance(2 * DAY)
      await expect(t.core.jobs.runNow('purge-audit-events', 'test')).rejects.toMatchObject({code: 'audit.chain_broken'})
      expect(await db().selectFrom('audit_event').select('seq').execute()).toHaveLength(4)
      expect(await checkpoint('pruned')).toBeUndefined()
    })

    it('reports a forged or deleted checkpoint of the pruned prefix', async () => {
      t = await createTestCore(dialect, {auditRetentionDays: 1})
      await createOrgs(3)
      t.clock.advance(2 * DAY)
      await createOrgs(1, 'young')
      expect(await t.core.jobs.runNow('purge-audit-events', 'test')).toEqual({events_pruned: 3})
      const anchor = (await checkpoint('pruned'))!

      await db().updateTable('audit_checkpoint').set({seq: 2}).where('kind', '=', 'pruned').execute()
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'checkpoint_invalid', seq: 2}})
      await expect(t.core.jobs.runNow('purge-audit-events', 'test')).rejects.toMatchObject({code: 'audit.checkpoint_invalid'})

      await db().deleteFrom('audit_checkpoint').where('kind', '=', 'pruned').execute()
      expect(await t.core.audit.verify()).toMatchObject({isIntact: false, problem: {kind: 'chain_broken', seq: anchor.seq + 1}})
    })

    it('prunes nothing when audit_retention_days is unset', async () => {
      t = await createTestCore(dialect)
      await createOrgs(3)
      t.clock.advance(3650 * DAY)
      expect(await t.core.jobs.runNow('purge-audit-events', 'test')).toEqual({events_pruned: 0})
      expect(await db().selectFrom('audit_event').select('seq').execute()).toHaveLength(3)
    })
  })
})
